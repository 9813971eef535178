package sandbox

import (
	"fmt"
	"testing"
	"time"
)

// TestGeneratedHouseholdsStayPlausible checks, over many LoginIds, what a
// reader of the data would notice: a chequing account deep in the red, a
// card past its limit, a savings account below zero.
func TestGeneratedHouseholdsStayPlausible(t *testing.T) {
	t.Parallel()
	anchor := time.Date(2026, 1, 21, 12, 0, 0, 0, time.UTC)
	for _, user := range []string{"greatday_nomfa", "test_slow"} {
		def := lookupScenario(user)
		for i := range 40 {
			ds := newDataset(fmt.Sprintf("household-%d", i), anchor.AddDate(0, 0, i*9), def)
			for _, a := range ds.accounts {
				info := kinds[a.kind]
				lo, hi := a.current, a.current
				for _, tx := range a.txns {
					lo, hi = min(lo, tx.balance), max(hi, tx.balance)
				}
				switch {
				case info.credit && (lo < 0 || hi > a.limit):
					t.Errorf("%s %d %s: owed between %d and %d, limit %d", user, i, info.name, lo, hi, a.limit)
				case !info.credit && lo < -a.overdraft:
					t.Errorf("%s %d %s: balance down to %d, overdraft %d", user, i, info.name, lo, a.overdraft)
				}
			}
		}
	}
}

// TestCardPaymentsMatchChequing checks the two sides of the monthly card
// payment carry the same amount, as a reconciling client would expect.
func TestCardPaymentsMatchChequing(t *testing.T) {
	t.Parallel()
	ds := newDataset("reconcile", time.Date(2026, 1, 21, 0, 0, 0, 0, time.UTC), lookupScenario("test_ready"))
	paid := map[string]int64{}
	received := map[string]int64{}
	for _, a := range ds.accounts {
		for _, tx := range a.txns {
			day := tx.date.Format(time.DateOnly)
			switch {
			case a.kind == kChequing && tx.desc == "PAYMENT - MASTERCARD":
				paid[day] = tx.debit
			case a.kind == kMastercard && tx.desc == "PAYMENT - THANK YOU":
				received[day] = tx.credit
			}
		}
	}
	if len(paid) < 11 {
		t.Fatalf("got %d card payments in a year, want about 12", len(paid))
	}
	for day, amount := range paid {
		if received[day] != amount {
			t.Errorf("%s: chequing paid %d, card received %d", day, amount, received[day])
		}
	}
}
