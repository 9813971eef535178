package fetcher_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"flinkslink/flinks"
	"flinkslink/handlers/fetcher"
	"flinkslink/store"
	"flinkslink/store/pgtest"
)

const loginID = "5602459c-f6d0-4ca0-6750-08dccdcadcc0"

// fakeFlinks plays the client's cached flow: it reports the calls and states
// a real fetch would, then returns run's result.
type fakeFlinks struct {
	calls atomic.Int32
	run   func(ctx context.Context, opts flinks.FetchOptions) (*flinks.AccountsDetail, error)
}

func (f *fakeFlinks) FetchCached(ctx context.Context, id string, opts flinks.FetchOptions) (*flinks.AccountsDetail, error) {
	f.calls.Add(1)
	if id != loginID {
		return nil, &flinks.Error{Endpoint: "Authorize", StatusCode: 401, FlinksCode: "INVALID_LOGIN"}
	}
	return f.run(ctx, opts)
}

func amount(cents int64) *flinks.Amount { a := flinks.Amount(cents); return &a }

// onPostgres runs the fetcher's suite on Postgres (FLINKSLINK_TEST_DB=postgres,
// as make test does after the SQLite run).
var onPostgres = os.Getenv("FLINKSLINK_TEST_DB") == "postgres"

func TestMain(m *testing.M) { pgtest.Main(m) }

// storeLocation is where a test's store is: a SQLite file in a temporary
// folder, or a new database on the throwaway Postgres cluster.
func storeLocation(t *testing.T) string {
	if onPostgres {
		return pgtest.NewDatabase(t)
	}
	return filepath.Join(t.TempDir(), "app.db")
}

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), storeLocation(t), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newLink(t *testing.T, db *store.DB) store.Link {
	t.Helper()
	l, _, err := db.CreateLink(t.Context(), store.NewLink{SessionID: "s1", LoginID: loginID, Institution: "FlinksCapital"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func waitTerminal(t *testing.T, db *store.DB, id string) store.Link {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		l, err := db.Link(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if l.State.Terminal() {
			return l
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("link did not reach a terminal state")
	return store.Link{}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestFetchPersistsTimelineAndSnapshot(t *testing.T) {
	db := openStore(t)
	link := newLink(t, db)
	body := `{"HttpStatusCode":200,"Login":{"Id":"` + loginID + `","Username":"greatday_nomfa"},` +
		`"Accounts":[{"AccountNumber":"7641238","TransitNumber":"12347","Holder":{"Name":"John Doe","Email":"j@x.ca","PhoneNumber":"5141234567"}}]}`
	fl := &fakeFlinks{run: func(ctx context.Context, o flinks.FetchOptions) (*flinks.AccountsDetail, error) {
		o.OnState(flinks.StateChange{Stage: flinks.StageAuthorizing})
		o.OnCall(flinks.Call{Endpoint: "Authorize", Method: "POST", StatusCode: 200, RequestID: "r1", Attempt: 1, Started: time.Now(), Body: []byte(body)})
		o.OnState(flinks.StateChange{Stage: flinks.StageFetching, RequestID: "r1"})
		o.OnCall(flinks.Call{Endpoint: "GetAccountsDetail", Method: "POST", StatusCode: 202, FlinksCode: "OPERATION_PENDING", RequestID: "r1", Attempt: 1, Started: time.Now()})
		o.OnState(flinks.StateChange{Stage: flinks.StagePending, RequestID: "r1", Polls: 1, NextPoll: time.Now().Add(time.Second)})
		o.OnCall(flinks.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", StatusCode: 200, RequestID: "r1", Attempt: 1, Started: time.Now(), Body: []byte(body)})
		o.OnState(flinks.StateChange{Stage: flinks.StageReady, RequestID: "r1", Polls: 1})
		return &flinks.AccountsDetail{
			RequestID: "r1", Institution: "FlinksCapital",
			Accounts: []flinks.Account{{
				ID: "acc-1", Title: "Chequing", AccountNumber: "7641238", Type: "Chequing", Category: "Operations", Currency: "CAD",
				Balance:      flinks.Balance{Current: amount(510550), Available: nil},
				Holder:       &flinks.Holder{Name: "John Doe", Email: "j@x.ca"},
				Transactions: []flinks.Transaction{{ID: "t1", Date: mustDate(t, "2025-01-31"), Description: "PAYROLL", Credit: amount(150025), Balance: amount(510550)}},
			}},
		}, nil
	}}
	f := fetcher.New(t.Context(), quiet(), db, fl, fetcher.Options{})
	f.Start(link.ID, link.Fetch)
	f.Start(link.ID, link.Fetch) // a second redirect attaches, it does not fetch again
	got := waitTerminal(t, db, link.ID)
	f.Wait()
	if got.State != store.StateReady {
		t.Fatalf("state %s (%s %s), want ready", got.State, got.ErrorCode, got.ErrorMessage)
	}
	if n := fl.calls.Load(); n != 1 {
		t.Errorf("FetchCached ran %d times, want 1", n)
	}
	snap, err := db.Snapshot(t.Context(), link.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := snap.Accounts[0]
	if a.Last4 != "1238" || *a.Current != 510550 || a.Available != nil || snap.HolderName != "John Doe" {
		t.Errorf("snapshot account %+v holder %q", a, snap.HolderName)
	}
	if tx := a.Transactions[0]; tx.Date != "2025-01-31" || *tx.Credit != 150025 || tx.Debit != nil {
		t.Errorf("transaction %+v", tx)
	}

	events, _ := db.Events(t.Context(), link.ID)
	var states []string
	for _, e := range events {
		states = append(states, string(e.State))
	}
	if got, want := strings.Join(states, ","), "received,authorizing,fetching,pending,ready"; got != want {
		t.Errorf("timeline %s, want %s", got, want)
	}
	calls, _ := db.Calls(t.Context(), link.ID)
	if len(calls) != 3 {
		t.Fatalf("%d calls recorded, want 3", len(calls))
	}
	for _, c := range calls {
		b := string(c.Body)
		if strings.Contains(b, loginID) || strings.Contains(b, "7641238") || strings.Contains(b, "j@x.ca") || strings.Contains(b, "5141234567") {
			t.Errorf("stored body not masked: %s", b)
		}
		if c.Body != nil && !strings.Contains(b, "John Doe") {
			t.Errorf("masking removed the holder name, which the timeline should keep: %s", b)
		}
	}
	if calls[1].FlinksCode != "OPERATION_PENDING" || calls[1].StatusCode != 202 {
		t.Errorf("pending call recorded as %+v", calls[1])
	}
}

func mustDate(t *testing.T, s string) flinks.Date {
	t.Helper()
	d, err := flinks.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFetchFailureIsNamed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		stage     flinks.Stage
		wantState store.State
		wantCode  string
	}{
		{"disabled login", &flinks.Error{Endpoint: "Authorize", StatusCode: 401, FlinksCode: "DISABLED_LOGIN", Message: "account disabled"}, flinks.StageFailed, store.StateFailed, "DISABLED_LOGIN"},
		{"timed out", flinks.ErrTimedOut, flinks.StageTimedOut, store.StateTimedOut, flinks.CodeTimedOut},
		{"malformed 200", &flinks.Error{Endpoint: "GetAccountsDetail", StatusCode: 200, Message: "malformed response"}, flinks.StageFailed, store.StateFailed, flinks.CodeMalformed},
		{"no terminal state reported", &flinks.Error{Endpoint: "Authorize", StatusCode: 500}, "", store.StateFailed, "HTTP_500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openStore(t)
			link := newLink(t, db)
			fl := &fakeFlinks{run: func(ctx context.Context, o flinks.FetchOptions) (*flinks.AccountsDetail, error) {
				if tc.stage != "" {
					o.OnState(flinks.StateChange{Stage: tc.stage, Err: tc.err})
				}
				return nil, tc.err
			}}
			f := fetcher.New(t.Context(), quiet(), db, fl, fetcher.Options{})
			f.Start(link.ID, link.Fetch)
			got := waitTerminal(t, db, link.ID)
			f.Wait()
			if got.State != tc.wantState || got.ErrorCode != tc.wantCode {
				t.Errorf("state %s code %q, want %s %q", got.State, got.ErrorCode, tc.wantState, tc.wantCode)
			}
		})
	}
}

func TestShutdownLeavesFetchResumable(t *testing.T) {
	db := openStore(t)
	link := newLink(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	entered := make(chan struct{})
	fl := &fakeFlinks{run: func(ctx context.Context, o flinks.FetchOptions) (*flinks.AccountsDetail, error) {
		o.OnState(flinks.StateChange{Stage: flinks.StagePending, RequestID: "r9", Polls: 2, NextPoll: time.Now().Add(time.Hour)})
		close(entered)
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	f := fetcher.New(ctx, quiet(), db, fl, fetcher.Options{})
	f.Start(link.ID, link.Fetch)
	<-entered
	cancel()
	done := make(chan struct{})
	go func() { f.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("fetch did not stop on shutdown")
	}
	l, _ := db.Link(t.Context(), link.ID)
	if l.State != store.StatePending || l.RequestID != "r9" {
		t.Errorf("after shutdown: %s %q, want pending r9", l.State, l.RequestID)
	}

	// The next start resumes it, polling the same Flinks request.
	var resumed atomic.Value
	fl2 := &fakeFlinks{run: func(ctx context.Context, o flinks.FetchOptions) (*flinks.AccountsDetail, error) {
		resumed.Store(o.ResumeRequestID)
		// The resumed client counts its own 202s from 1 again.
		o.OnState(flinks.StateChange{Stage: flinks.StagePending, RequestID: "r9", Polls: 1, NextPoll: time.Now()})
		return &flinks.AccountsDetail{Institution: "FlinksCapital"}, nil
	}}
	// (It polls when the stored next poll was due, at most an interval on.)
	f2 := fetcher.New(t.Context(), quiet(), db, fl2, fetcher.Options{PollInterval: 50 * time.Millisecond})
	n, err := f2.Resume(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("Resume = %d, %v; want 1", n, err)
	}
	if got := waitTerminal(t, db, link.ID); got.State != store.StateReady {
		t.Errorf("resumed link ended %s", got.State)
	}
	f2.Wait()
	if got, _ := resumed.Load().(string); got != "r9" {
		t.Errorf("ResumeRequestID %q, want r9", got)
	}
	// The page's count of Flinks' 202 answers goes on across the restart.
	events, _ := db.Events(t.Context(), link.ID)
	last := -1
	for _, e := range events {
		if e.State == store.StatePending {
			last = e.Polls
		}
	}
	if last != 3 {
		t.Errorf("202 count after the restart: %d, want 3 (2 before, 1 after)", last)
	}
}

func TestMaskBody(t *testing.T) {
	in := `{"Login":{"Id":"` + loginID + `","Username":"bob"},"Accounts":[{"AccountNumber":"1234567","TransitNumber":77777,` +
		`"Holder":{"Name":"Ann","Address":{"City":"Montreal"},"Email":"a@b.c"}}],"Note":"see ` + loginID + `"}`
	out := string(fetcher.MaskBody([]byte(in), loginID))
	for _, secret := range []string{loginID, "1234567", "a@b.c", "Montreal", `"bob"`} {
		if strings.Contains(out, secret) {
			t.Errorf("masked body still contains %q:\n%s", secret, out)
		}
	}
	for _, kept := range []string{"••••4567", "••••7777", `"Ann"`} {
		if !strings.Contains(out, kept) {
			t.Errorf("masked body lacks %q:\n%s", kept, out)
		}
	}
	if got := string(fetcher.MaskBody([]byte("<html>502 "+loginID+"</html>"), loginID)); strings.Contains(got, loginID) {
		t.Errorf("non-JSON body keeps the LoginId: %s", got)
	}
}
