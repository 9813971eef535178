package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"flinkslink/store"
)

func cents(v int64) *int64 { return &v }

// sampleSnapshot returns a snapshot whose accounts are not in ID order, with every kind of nullable money.
func sampleSnapshot() store.Snapshot {
	return store.Snapshot{
		Institution:     "FlinksCapital",
		InstitutionName: "Flinks Capital",
		LastRefresh:     time.Date(2025, 3, 13, 8, 0, 0, 0, time.UTC),
		HolderName:      "John Doe",
		Accounts: []store.Account{
			{
				ID: "acc-b", Title: "Chequing", Last4: "1234", Type: "Chequing", Category: "Operations",
				Currency: "CAD", AccountType: "Personal",
				Current: cents(123456), Available: cents(0), Limit: nil, OverdraftLimit: cents(-50000),
				HolderName: "John Doe",
				Transactions: []store.Transaction{
					{ID: "t3", Date: "2025-03-12", Description: "Coffee", Debit: cents(450), Balance: cents(123456)},
					{ID: "t2", Date: "2025-03-12", Description: "Payroll", Credit: cents(250000), Balance: cents(123906)},
					{ID: "t1", Date: "2025-02-28", Description: "Rent", Debit: cents(120000)},
				},
			},
			{
				ID: "acc-a", Title: "Visa", Last4: "9876", Type: "CreditCard", Category: "Credits", Currency: "CAD",
				Limit: cents(500000),
				// No transactions: must come back as nil, not an empty slice.
			},
			{
				ID: "acc-c", Title: "Savings", Currency: "USD", Current: cents(1),
				Transactions: []store.Transaction{
					{ID: "t1", Date: "2025-01-01", Description: "Interest", Credit: cents(1)}, // same ID as in acc-b: fine
				},
			},
		},
	}
}

func TestCompleteFetch(t *testing.T) {
	t.Parallel()

	t.Run("StoresSnapshotAndMarksReady", func(t *testing.T) {
		t.Parallel()
		db, clk := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{State: store.StatePending, RequestID: "req-1", Polls: 2, NextPollAt: clk.Now().Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if err := db.CompleteFetch(t.Context(), link.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}

		got, err := db.Snapshot(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := sampleSnapshot()
		want.LinkID, want.Fetch, want.FetchedAt = link.ID, 1, clk.Now()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Snapshot =\n%+v\nwant\n%+v", got, want)
		}

		l, _ := db.Link(t.Context(), link.ID)
		if l.State != store.StateReady || !l.UpdatedAt.Equal(clk.Now()) || !l.NextPollAt.IsZero() {
			t.Errorf("Link = %+v, want ready, UpdatedAt %v, no NextPollAt", l, clk.Now())
		}
		events, _ := db.Events(t.Context(), link.ID)
		last := events[len(events)-1]
		if last.State != store.StateReady || !reflect.DeepEqual(last.Note, store.NoteOf(store.NoteDataReceived, 3)) || last.RequestID != "req-1" || last.Polls != 2 {
			t.Errorf("last event = %+v, want ready with the note, RequestID and Polls", last)
		}
	})

	t.Run("NullableMoneyRoundTrips", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		if err := db.CompleteFetch(t.Context(), link.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		snap, err := db.Snapshot(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		a := snap.Accounts[0]
		for _, tc := range []struct {
			name string
			got  *int64
			want *int64
		}{
			{"Current", a.Current, cents(123456)},
			{"Available (zero)", a.Available, cents(0)},
			{"Limit (nil)", a.Limit, nil},
			{"OverdraftLimit (negative)", a.OverdraftLimit, cents(-50000)},
			{"Debit", a.Transactions[0].Debit, cents(450)},
			{"Credit (nil)", a.Transactions[0].Credit, nil},
			{"Balance (nil)", a.Transactions[2].Balance, nil},
		} {
			if (tc.got == nil) != (tc.want == nil) || (tc.got != nil && *tc.got != *tc.want) {
				t.Errorf("%s = %s, want %s", tc.name, show(tc.got), show(tc.want))
			}
		}
	})

	t.Run("KeepsOnlyLast4Digits", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		snap := store.Snapshot{Accounts: []store.Account{
			{ID: "a", Last4: "00012345678"}, {ID: "b", Last4: "****5678"}, {ID: "c", Last4: "12"}, {ID: "d"},
		}}
		if err := db.CompleteFetch(t.Context(), link.ID, 1, snap, store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Snapshot(t.Context(), link.ID)
		for i, want := range []string{"5678", "5678", "12", ""} {
			if got.Accounts[i].Last4 != want {
				t.Errorf("account %d: Last4 = %q, want %q", i, got.Accounts[i].Last4, want)
			}
		}
		var n int
		if err := db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM accounts WHERE last4 LIKE '%345678%'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("rows with the full account number = %d, %v; want 0", n, err)
		}
	})

	t.Run("ReplacesPreviousSnapshot", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		if err := db.CompleteFetch(t.Context(), link.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StartNewFetch(t.Context(), link.ID); err != nil {
			t.Fatal(err)
		}
		second := store.Snapshot{InstitutionName: "Second", Accounts: []store.Account{{ID: "only", Transactions: []store.Transaction{{ID: "x", Date: "2025-04-01"}}}}}
		if err := db.CompleteFetch(t.Context(), link.ID, 2, second, store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Snapshot(t.Context(), link.ID)
		if got.Fetch != 2 || got.InstitutionName != "Second" || len(got.Accounts) != 1 || len(got.Accounts[0].Transactions) != 1 {
			t.Errorf("Snapshot = %+v, want only the second snapshot", got)
		}
		if n := count(t, db, "transactions", link.ID); n != 1 {
			t.Errorf("transactions rows = %d, want 1", n)
		}
	})

	t.Run("FailureWritesNothing", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		ctx := t.Context()
		link := mustCreate(t, db, "s1", "login-1")
		if err := db.CompleteFetch(ctx, link.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.StartNewFetch(ctx, link.ID); err != nil {
			t.Fatal(err)
		}
		mustRecord(t, db, link.ID, 2, store.StateFetching)
		beforeLink, _ := db.Link(ctx, link.ID)
		beforeSnap, _ := db.Snapshot(ctx, link.ID)
		beforeEvents, _ := db.Events(ctx, link.ID)

		bad := sampleSnapshot()
		// The duplicate is found by the database after the link row was updated, the old snapshot deleted
		// and several rows inserted: all of it must be rolled back.
		bad.Accounts[2].Transactions = append(bad.Accounts[2].Transactions, bad.Accounts[2].Transactions[0])
		err := db.CompleteFetch(ctx, link.ID, 2, bad, store.NoteOf(store.NoteDataReceived, 3))
		if err == nil || errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) {
			t.Fatalf("CompleteFetch with a duplicate transaction ID: err = %v, want a constraint error", err)
		}
		if got, _ := db.Link(ctx, link.ID); !reflect.DeepEqual(got, beforeLink) {
			t.Errorf("Link = %+v, want unchanged %+v", got, beforeLink)
		}
		if got, _ := db.Snapshot(ctx, link.ID); !reflect.DeepEqual(got, beforeSnap) {
			t.Errorf("Snapshot = %+v, want the previous one %+v", got, beforeSnap)
		}
		if got, _ := db.Events(ctx, link.ID); !reflect.DeepEqual(got, beforeEvents) {
			t.Errorf("Events = %+v, want unchanged", got)
		}
	})

	t.Run("RejectsInvalidData", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		for name, snap := range map[string]store.Snapshot{
			"BadDate":            {Accounts: []store.Account{{ID: "a", Transactions: []store.Transaction{{ID: "t", Date: "2025/03/01"}}}}},
			"EmptyAccountID":     {Accounts: []store.Account{{ID: ""}}},
			"DuplicateAccountID": {Accounts: []store.Account{{ID: "a"}, {ID: "a"}}},
		} {
			if err := db.CompleteFetch(t.Context(), link.ID, 1, snap, store.NoteOf(store.NoteDataReceived, 3)); err == nil {
				t.Errorf("%s: err = nil, want an error", name)
			}
		}
		if got, _ := db.Link(t.Context(), link.ID); got.State != store.StateReceived {
			t.Errorf("State = %s, want received", got.State)
		}
		if _, err := db.Snapshot(t.Context(), link.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Snapshot: err = %v, want ErrNotFound", err)
		}
	})

	t.Run("StaleFetchIsRefused", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		mustRecord(t, db, link.ID, 1, store.StateFailed)
		if err := db.CompleteFetch(t.Context(), link.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); !errors.Is(err, store.ErrStale) {
			t.Errorf("CompleteFetch after failed: err = %v, want ErrStale", err)
		}
		if _, err := db.StartNewFetch(t.Context(), link.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.CompleteFetch(t.Context(), link.ID, 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); !errors.Is(err, store.ErrStale) {
			t.Errorf("CompleteFetch of the old fetch: err = %v, want ErrStale", err)
		}
		if _, err := db.Snapshot(t.Context(), link.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Snapshot: err = %v, want ErrNotFound (nothing stored)", err)
		}
	})

	t.Run("UnknownLinkIsNotFound", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		if err := db.CompleteFetch(t.Context(), "nope", 1, sampleSnapshot(), store.NoteOf(store.NoteDataReceived, 3)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})

	t.Run("ThousandsOfTransactionsAreFast", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		const perAccount = 2500
		snap := store.Snapshot{Accounts: make([]store.Account, 2)}
		for i := range snap.Accounts {
			snap.Accounts[i].ID = fmt.Sprintf("acc-%d", i)
			for j := range perAccount {
				day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -j/10)
				snap.Accounts[i].Transactions = append(snap.Accounts[i].Transactions, store.Transaction{
					ID: fmt.Sprintf("t-%d-%d", i, j), Date: day.Format(time.DateOnly),
					Description: "Purchase at a shop with a fairly long description", Debit: cents(int64(j)), Balance: cents(int64(100000 - j)),
				})
			}
		}

		start := time.Now()
		if err := db.CompleteFetch(t.Context(), link.ID, 1, snap, store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		t.Logf("CompleteFetch with %d transactions: %v", 2*perAccount, elapsed)

		got, err := db.Snapshot(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range got.Accounts {
			if len(a.Transactions) != perAccount {
				t.Fatalf("account %d: %d transactions, want %d", i, len(a.Transactions), perAccount)
			}
			for j, tx := range a.Transactions {
				if want := fmt.Sprintf("t-%d-%d", i, j); tx.ID != want {
					t.Fatalf("account %d transaction %d: ID %s, want %s (order kept)", i, j, tx.ID, want)
				}
			}
		}
	})
}

func TestSnapshot(t *testing.T) {
	t.Parallel()

	t.Run("NoneIsNotFound", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		for _, id := range []string{link.ID, "nope"} {
			if _, err := db.Snapshot(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Snapshot(%s): err = %v, want ErrNotFound", id, err)
			}
		}
	})

	t.Run("EmptySnapshot", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		if err := db.CompleteFetch(t.Context(), link.ID, 1, store.Snapshot{}, store.NoteOf(store.NoteDataReceived, 3)); err != nil {
			t.Fatal(err)
		}
		got, err := db.Snapshot(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Accounts) != 0 || !got.LastRefresh.IsZero() {
			t.Errorf("Snapshot = %+v, want no accounts and no LastRefresh", got)
		}
	})
}

func TestRecordCall(t *testing.T) {
	t.Parallel()

	t.Run("RoundTripsInOrder", func(t *testing.T) {
		t.Parallel()
		db, clk := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		first := store.Call{
			At: clk.Now(), Endpoint: "/Authorize", Method: "POST", StatusCode: 200, RequestID: "req-1",
			Attempt: 1, Duration: 1234567 * time.Microsecond, Body: []byte(`{"LoginId":"***"}`),
		}
		second := store.Call{
			Endpoint: "/GetAccountsDetail", Method: "POST", StatusCode: 202, FlinksCode: "OPERATION_PENDING",
			RequestID: "req-1", Attempt: 2, Err: "",
		}
		third := store.Call{Endpoint: "/GetAccountsDetail", Method: "POST", Attempt: 3, Err: "connection reset"}
		for _, c := range []store.Call{first, second, third} {
			clk.Advance(time.Second)
			if err := db.RecordCall(t.Context(), link.ID, 1, c); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.Calls(t.Context(), link.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("Calls = %d, want 3", len(got))
		}
		first.ID, first.LinkID, first.Fetch = got[0].ID, link.ID, 1
		if !reflect.DeepEqual(got[0], first) {
			t.Errorf("call 0 = %+v, want %+v", got[0], first)
		}
		if got[1].FlinksCode != "OPERATION_PENDING" || got[1].Body != nil || !got[1].At.Equal(clk.Now().Add(-time.Second)) {
			t.Errorf("call 1 = %+v, want OPERATION_PENDING, no body, At = the clock when recorded", got[1])
		}
		if got[2].Err != "connection reset" || got[2].StatusCode != 0 {
			t.Errorf("call 2 = %+v, want the transport error", got[2])
		}
		// A live timeline asks only for the calls after those it shows.
		after, err := db.CallsAfter(t.Context(), link.ID, got[0].ID)
		if err != nil || len(after) != 2 || after[0].ID != got[1].ID || after[1].ID != got[2].ID {
			t.Errorf("CallsAfter(first) = %+v, %v; want the second and third calls", after, err)
		}
		if none, _ := db.CallsAfter(t.Context(), link.ID, got[2].ID); len(none) != 0 {
			t.Errorf("CallsAfter(last) = %d calls, want none", len(none))
		}
	})

	t.Run("BodyIsCapped", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		link := mustCreate(t, db, "s1", "login-1")
		body := bytes.Repeat([]byte("x"), 300<<10)
		if err := db.RecordCall(t.Context(), link.ID, 1, store.Call{Body: body}); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Calls(t.Context(), link.ID)
		if len(got[0].Body) != 256<<10 {
			t.Errorf("body = %d bytes, want %d", len(got[0].Body), 256<<10)
		}
	})

	t.Run("UnknownLinkIsNotFound", func(t *testing.T) {
		t.Parallel()
		db, _ := newDB(t)
		if err := db.RecordCall(t.Context(), "nope", 1, store.Call{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func show(p *int64) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}
