package fetcher

import (
	"time"

	"flinkslink/flinks"
	"flinkslink/store"
)

// snapshotFrom converts Flinks' account details into the stored snapshot,
// keeping only what the summary shows: the account number is reduced to its
// last four digits, holder contact details are dropped.
func snapshotFrom(d *flinks.AccountsDetail) store.Snapshot {
	s := store.Snapshot{
		FetchedAt:       time.Now().UTC(),
		Institution:     d.Institution,
		InstitutionName: d.InstitutionName,
		LastRefresh:     d.Login.LastRefresh.Time,
	}
	if d.Replayed != nil {
		s.StaleCode = d.Replayed.FlinksCode
	}
	for _, a := range d.Accounts {
		acc := store.Account{
			ID:             a.ID,
			Title:          a.Title,
			Last4:          lastFour(a.AccountNumber, a.LastFourDigits),
			Type:           a.Type,
			Category:       a.Category,
			Currency:       a.Currency,
			AccountType:    a.AccountType,
			Current:        cents(a.Balance.Current),
			Available:      cents(a.Balance.Available),
			Limit:          cents(a.Balance.Limit),
			OverdraftLimit: cents(a.OverdraftLimit),
		}
		if a.Holder != nil {
			acc.HolderName = a.Holder.Name
			if s.HolderName == "" {
				s.HolderName = a.Holder.Name
			}
		}
		s.UnreadableTransactions += a.Unreadable
		seen := make(map[string]bool, len(a.Transactions))
		for _, t := range a.Transactions {
			// Flinks' transaction ids are unique within an account: a repeat
			// is a row that cannot be trusted, left out like an unreadable one.
			if t.ID != "" && seen[t.ID] {
				s.UnreadableTransactions++
				continue
			}
			seen[t.ID] = true
			acc.Transactions = append(acc.Transactions, store.Transaction{
				ID:          t.ID,
				Date:        t.Date.String(),
				Description: t.Description,
				Debit:       cents(t.Debit),
				Credit:      cents(t.Credit),
				Balance:     cents(t.Balance),
			})
		}
		s.Accounts = append(s.Accounts, acc)
	}
	return s
}

func cents(a *flinks.Amount) *int64 {
	if a == nil {
		return nil
	}
	v := int64(*a)
	return &v
}

// lastFour keeps the last four digits of an account number (or Flinks'
// LastFourDigits when the number is absent).
func lastFour(number, lastFourDigits string) string {
	digits := make([]byte, 0, len(number))
	for i := 0; i < len(number); i++ {
		if number[i] >= '0' && number[i] <= '9' {
			digits = append(digits, number[i])
		}
	}
	if len(digits) >= 4 {
		return string(digits[len(digits)-4:])
	}
	if len(digits) > 0 {
		return string(digits)
	}
	return lastFourDigits
}
