package fetcher_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks/flinkstest"
	"flinkslink/handlers/fetcher"
	"flinkslink/store"
)

// bigDetail is a data answer with n transactions: storing it needs many new
// database pages.
func bigDetail(requestID string, n int) string {
	var tx []string
	for i := range n {
		tx = append(tx, fmt.Sprintf(`{"Id":"t%d","Date":"2026-01-%02d","Description":"PAYMENT %d - A LONG DESCRIPTION OF THE PAYEE","Debit":%d.25}`, i, i%28+1, i, i))
	}
	return `{"HttpStatusCode":200,"RequestId":"` + requestID + `","Login":{"Id":"` + faultLoginID + `"},
		"Accounts":[{"Id":"0d3e8c5a-5f2b-4f0e-9d0a-6a1b2c3d4e5f","Title":"Chequing","Currency":"CAD","Balance":{"Current":5105.5},
		"Transactions":[` + strings.Join(tx, ",") + `]}]}`
}

// The disk fills up just as Flinks' data arrives: the snapshot cannot be
// written. The link stays pending (not failed: nothing is wrong with the
// data), the store says it cannot write (so /healthz fails), and once space
// returns the same running fetch stores it and the link is ready, without a
// restart. The full disk is SQLite's own SQLITE_FULL, from a capped file.
func TestDiskFullLinkLeavesPendingWhenSpaceReturns(t *testing.T) {
	if onPostgres {
		t.Skip("fills the SQLite file's own cap (DB_MAX_MB); a Postgres server bounds its disk itself")
	}
	t.Parallel()
	const rows = 3000
	up := newUpstream(t, map[string]flinkstest.Script{
		"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Reply(200, bigDetail("req-1", rows))),
	})
	client, db, link := faultFixture(t, up)
	// The file may not grow any more: the disk is full.
	if err := db.SetMaxSize(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	f := fetcher.New(t.Context(), faultLog(), db, client, fetcher.Options{
		PollInterval: time.Millisecond, Timeout: time.Minute, WriteRetryMax: 100 * time.Millisecond,
	})
	f.Start(link.ID, link.Fetch)

	// The data came (its call was made), and its write failed.
	for deadline := time.Now().Add(30 * time.Second); up.Count("GetAccountsDetailAsync") == 0 || db.Writable() == nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d data calls, writable error %v; want the data and a failed write", up.Count("GetAccountsDetailAsync"), db.Writable())
		}
	}
	if err := db.Writable(); !strings.Contains(err.Error(), "full") {
		t.Errorf("Writable = %v, want the full disk", err)
	}
	l, err := db.Link(t.Context(), link.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l.State.Terminal() {
		t.Fatalf("with the disk full the link is %s %q, want it still unfinished", l.State, l.ErrorCode)
	}

	// Space returns.
	if err := db.SetMaxSize(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	got := faultAwaitEnd(t, db, link.ID, 30*time.Second)
	faultWaitFetcher(t, f, 10*time.Second)
	if got.State != store.StateReady {
		t.Fatalf("after space returned the link is %s %q, want ready", got.State, got.ErrorCode)
	}
	snap, err := db.Snapshot(t.Context(), link.ID)
	if err != nil || len(snap.Accounts) != 1 || len(snap.Accounts[0].Transactions) != rows {
		t.Errorf("snapshot: %v; want the account with its %d transactions", err, rows)
	}
	if err := db.Writable(); err != nil {
		t.Errorf("Writable = %v after a successful write, want nil", err)
	}
	if n := up.Count("GetAccountsDetailAsync"); n != 1 {
		t.Errorf("Flinks was asked %d times; the stored answer should be written, not fetched again", n)
	}
}
