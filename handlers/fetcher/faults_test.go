package fetcher_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"flinkslink/flinks"
	"flinkslink/flinks/flinkstest"
	"flinkslink/handlers"
	"flinkslink/handlers/fetcher"
	"flinkslink/store"
)

// The fault matrix drives the real Flinks client, through the real fetcher, into
// a real SQLite store, against an upstream that misbehaves on purpose. Every row
// must end, within its time bounds, in ready or in a failure whose code the app
// explains specifically (never the generic "something went wrong").

const (
	faultLoginID = "8b35f6c8-1c0e-4f6a-9d55-2f0c5e7d9a10"
	faultAPIKey  = "3d5266a8-b697-48d4-8de6-52e2e2662acc"
	faultSecret  = "c4569c54-e167-4d34-8de6-f4113bc82414"

	// Timings: small enough for the whole matrix to take a couple of seconds,
	// large enough that a healthy local call never hits faultCallTimeout under -race.
	faultPoll        = 10 * time.Millisecond
	faultCap         = 400 * time.Millisecond
	faultCallTimeout = 250 * time.Millisecond
	faultAttempts    = 6 // the client's default MaxRetries (5) + 1
)

// newUpstream is the kit's scripted Flinks with script's answers; unscripted
// endpoints answer like a healthy Flinks right after Connect.
func newUpstream(t *testing.T, script map[string]flinkstest.Script) *flinkstest.Server {
	up := flinkstest.NewServer(t, faultLoginID)
	for endpoint, sc := range script {
		up.On(endpoint, sc)
	}
	return up
}

// faultFixture is what a fault test needs beside its upstream: the real
// client pointed at it, a real store, and one link of faultLoginID in it.
func faultFixture(t *testing.T, up *flinkstest.Server) (*flinks.Client, *store.DB, store.Link) {
	t.Helper()
	client, err := flinks.NewClient(flinks.Config{BaseURL: up.URL, APIKey: faultAPIKey, SecretKey: faultSecret})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.Context(), storeLocation(t), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	link, _, err := db.CreateLink(t.Context(), store.NewLink{SessionID: "s1", LoginID: faultLoginID, Institution: "FlinksCapital"})
	if err != nil {
		t.Fatal(err)
	}
	return client, db, link
}

// --- the matrix ---

type faultRow struct {
	name     string
	script   func(elsewhere string) map[string]flinkstest.Script
	want     store.State
	wantCode string
	// calls are exact call counts per endpoint, proving the retry policy:
	// faultAttempts where retrying helps, 1 where it cannot.
	calls   map[string]int
	retried bool // whether the timeline shows a retry
	min     time.Duration
	// For a ready row: the snapshot's StaleCode, and (when kept > 0) how many
	// transactions it keeps and how many it counts as unreadable.
	stale            string
	kept, unreadable int
	cap              time.Duration // the fetch's limit, when not faultCap
}

func faultMatrix() []faultRow {
	on := func(m map[string]flinkstest.Script) func(string) map[string]flinkstest.Script {
		return func(string) map[string]flinkstest.Script { return m }
	}
	bad := `{"HttpStatusCode":200,"RequestId":"req-1","Accounts":[{"Id":"0d3e8c5a`
	const otherLoginID = "0f0e0d0c-1c0e-4f6a-9d55-2f0c5e7d9a10"
	return []faultRow{
		{name: "healthy: pending then ready", script: on(nil), want: store.StateReady,
			calls: map[string]int{"GenerateAuthorizeToken": 1, "Authorize": 1, "GetAccountsDetail": 1, "GetAccountsDetailAsync": 1}},

		// The cached Authorize itself answers 202 while Connect's scrape runs:
		// its RequestId goes straight to the poller (audit D1).
		{name: "202 on the cached Authorize, then polled", script: on(map[string]flinkstest.Script{
			"Authorize":              flinkstest.Always(flinkstest.Reply(202, flinkstest.PendingBody("OPERATION_PENDING", "req-a"))),
			"GetAccountsDetailAsync": flinkstest.First(2, flinkstest.Pending("OPERATION_PENDING"), flinkstest.DetailFor(faultLoginID)),
		}), want: store.StateReady, calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 0, "GetAccountsDetailAsync": 3}},
		{name: "202 OPERATION_DISPATCHED on the cached Authorize, then polled", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.Reply(202, flinkstest.PendingBody("OPERATION_DISPATCHED", "req-a"))),
		}), want: store.StateReady, calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 0, "GetAccountsDetailAsync": 1}},

		// QUESTION_NOT_FOUND on the cached Authorize replays the last
		// refresh; its RequestId may still read the cached data (audit D2).
		{name: "QUESTION_NOT_FOUND whose RequestId reads the cache", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.FlinksError(401, "QUESTION_NOT_FOUND", "No answer stored for the question", "req-q")),
		}), want: store.StateReady, stale: "QUESTION_NOT_FOUND", calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 1, "GetAccountsDetailAsync": 1}},
		{name: "QUESTION_NOT_FOUND and the cache refuses too", script: on(map[string]flinkstest.Script{
			"Authorize":         flinkstest.Always(flinkstest.FlinksError(401, "QUESTION_NOT_FOUND", "No answer stored for the question", "req-q")),
			"GetAccountsDetail": flinkstest.Always(flinkstest.FlinksError(401, "UNAUTHORIZED", "This RequestId is not authorized", "req-q")),
		}), want: store.StateFailed, wantCode: "QUESTION_NOT_FOUND", calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 1}},
		{name: "QUESTION_NOT_FOUND without a RequestId", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.FlinksError(401, "QUESTION_NOT_FOUND", "No answer stored for the question", "")),
		}), want: store.StateFailed, wantCode: "QUESTION_NOT_FOUND", calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 0}},

		// One bad row loses only itself: the rest is kept and counted.
		{name: "unreadable transactions among good ones", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Reply(200, `{"HttpStatusCode":200,"RequestId":"req-1","Login":{"Id":"`+faultLoginID+`"},
				"Accounts":[{"Id":"0d3e8c5a-5f2b-4f0e-9d0a-6a1b2c3d4e5f","Title":"Chequing","Currency":"CAD","Balance":{"Current":5105.5},
				"Transactions":[{"Id":"t1","Date":"2026-01-30","Description":"PAYROLL","Credit":1500.25},
				{"Id":"t2","Date":null,"Description":"NO DATE","Debit":1},
				{"Id":"t3","Date":"20/11/2026","Description":"BAD DATE","Debit":2},
				{"Id":"t1","Date":"2026-01-29","Description":"REPEATED ID","Debit":3},
				"not a transaction",
				{"Id":"t4","Date":"2026-01-28","Description":"RENT","Debit":"abc"},
				{"Id":"t5","Date":"2026-01-27","Description":"GROCERIES","Debit":42.1}]}]}`)),
		}), want: store.StateReady, unreadable: 5, kept: 2, calls: map[string]int{"GetAccountsDetailAsync": 1}},

		// Data for another card is refused, whatever it holds.
		{name: "data naming another LoginId", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Detail("req-1", otherLoginID)),
		}), want: store.StateFailed, wantCode: flinks.CodeForeignData, calls: map[string]int{"GetAccountsDetailAsync": 1}},
		{name: "data for another RequestId", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Detail("req-someone-else", faultLoginID)),
		}), want: store.StateFailed, wantCode: flinks.CodeForeignData, calls: map[string]int{"GetAccountsDetailAsync": 1}},
		{name: "Authorize answering for another LoginId", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.Authorized("req-1", otherLoginID)),
		}), want: store.StateFailed, wantCode: flinks.CodeForeignData, calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 0}},
		// Flinks may echo the LoginId in another case: still ours, and masked.
		{name: "data echoing the LoginId in upper case", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Detail("req-1", strings.ToUpper(faultLoginID))),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetailAsync": 1}},
		// A RequestId that is not an id never reaches a URL.
		{name: "RequestId '..' from Authorize", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.Authorized("..", faultLoginID)),
		}), want: store.StateFailed, wantCode: flinks.CodeMalformed, calls: map[string]int{"GetAccountsDetail": 0}, retried: true},

		// A 202 nested thousands of levels deep is a 202, read in one pass.
		{name: "202 nested 9,000 arrays deep", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.Always(flinkstest.Reply(202, `{"HttpStatusCode":202,"FlinksCode":"OPERATION_PENDING","RequestId":"req-1","Links":`+
				strings.Repeat("[", 9000)+strings.Repeat("]", 9000)+`}`)),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetail": 1, "GetAccountsDetailAsync": 1}},

		// Unreadable 200s are retried: garbled on the way, usually fine on the next call.
		{name: "malformed JSON on 200, persistently", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Reply(200, bad)),
		}), want: store.StateFailed, wantCode: flinks.CodeMalformed, calls: map[string]int{"GetAccountsDetailAsync": faultAttempts}, retried: true},
		{name: "malformed JSON on 200 once, then good", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.First(1, flinkstest.Reply(200, bad), flinkstest.DetailFor(faultLoginID)),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetailAsync": 2}, retried: true},
		{name: "200 without Accounts", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Reply(200, `{"HttpStatusCode":200,"RequestId":"req-1","Login":{"Id":"x"}}`)),
		}), want: store.StateFailed, wantCode: flinks.CodeMalformed, calls: map[string]int{"GetAccountsDetailAsync": faultAttempts}, retried: true},
		{name: "empty body 200", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.Always(flinkstest.Reply(200, "")),
		}), want: store.StateFailed, wantCode: flinks.CodeMalformed, calls: map[string]int{"GetAccountsDetail": faultAttempts}, retried: true},

		// Answers that never arrive whole are network failures, retried.
		{name: "truncated body (Content-Length larger than body), persistently", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.Always(flinkstest.Truncated(200, flinkstest.DetailBody("req-1", faultLoginID))),
		}), want: store.StateFailed, wantCode: flinks.CodeNetwork, calls: map[string]int{"GetAccountsDetail": faultAttempts}, retried: true},
		{name: "truncated body once, then good", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.First(1, flinkstest.Truncated(200, flinkstest.DetailBody("req-1", faultLoginID)), flinkstest.Pending("OPERATION_PENDING")),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetail": 2}, retried: true},
		{name: "connection closed mid-body once, then good", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.First(1, flinkstest.CutMidBody(200, flinkstest.DetailBody("req-1", faultLoginID)), flinkstest.Pending("OPERATION_PENDING")),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetail": 2}, retried: true},
		{name: "connection upReset, persistently", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.Reset()),
		}), want: store.StateFailed, wantCode: flinks.CodeNetwork, calls: map[string]int{"Authorize": faultAttempts, "GenerateAuthorizeToken": faultAttempts}, retried: true},
		{name: "connection upReset once, then good", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.First(1, flinkstest.Reset(), flinkstest.Pending("OPERATION_PENDING")),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetail": 2}, retried: true},
		{name: "slow body past the per-call timeout, persistently", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Stall(200, flinkstest.DetailBody("req-1", faultLoginID), time.Hour)),
		}), want: store.StateFailed, wantCode: flinks.CodeNetwork, calls: map[string]int{"GetAccountsDetailAsync": faultAttempts}, retried: true,
			min: faultAttempts * faultCallTimeout, cap: 20 * time.Second},
		{name: "slow body once, then good", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.First(1, flinkstest.Stall(200, flinkstest.DetailBody("req-1", faultLoginID), time.Hour), flinkstest.DetailFor(faultLoginID)),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetailAsync": 2}, retried: true, min: faultCallTimeout},
		{name: "headers never come", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.Hang()),
		}), want: store.StateFailed, wantCode: flinks.CodeNetwork, calls: map[string]int{"Authorize": faultAttempts}, retried: true,
			min: faultAttempts * faultCallTimeout, cap: 20 * time.Second},
		// The fetch's limit bounds everything, stalled calls included: under
		// the 400 ms cap, six 250 ms call timeouts cannot all run.
		{name: "calls that stall past the fetch's limit", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.Hang()),
		}), want: store.StateTimedOut, wantCode: flinks.CodeTimedOut, calls: map[string]int{"GetAccountsDetail": 0}, retried: true, min: faultCap},

		// Rate limits and server errors: retried with backoff, up to MaxRetries.
		{name: "429 storm", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.Always(flinkstest.Reply(429, "")),
		}), want: store.StateFailed, wantCode: "HTTP_429", calls: map[string]int{"GetAccountsDetail": faultAttempts}, retried: true},
		{name: "429 then success", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.First(2, flinkstest.Reply(429, `{"message":"Too Many Requests"}`), flinkstest.Pending("OPERATION_PENDING")),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetail": 3}, retried: true},
		{name: "5xx storm", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Reply(503, "")),
		}), want: store.StateFailed, wantCode: "HTTP_503", calls: map[string]int{"GetAccountsDetailAsync": faultAttempts}, retried: true},
		{name: "5xx twice, then success", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.First(2, flinkstest.FlinksError(500, "AGGREGATION_ERROR", "An unexpected error occurred", ""), flinkstest.DetailFor(faultLoginID)),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetailAsync": 3}, retried: true},
		{name: "HTML 502 page", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.HTML(502)),
		}), want: store.StateFailed, wantCode: "HTTP_502", calls: map[string]int{"GetAccountsDetailAsync": faultAttempts}, retried: true},
		{name: "RETRY_LATER 401", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.FlinksError(401, "RETRY_LATER", "Could not open a connection with the institution", "")),
		}), want: store.StateFailed, wantCode: "RETRY_LATER", calls: map[string]int{"Authorize": 2, "GenerateAuthorizeToken": 2}, retried: true}, // a cached answer replays: asked once more
		{name: "RETRY_LATER once, then good", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.First(1, flinkstest.FlinksError(401, "RETRY_LATER", "Could not open a connection with the institution", ""), flinkstest.Authorized("req-2", faultLoginID)),
		}), want: store.StateReady, calls: map[string]int{"Authorize": 2}, retried: true},
		{name: "TOO_MANY_REQUESTS", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.Always(flinkstest.FlinksError(401, "TOO_MANY_REQUESTS", "Too many requests", "")),
		}), want: store.StateFailed, wantCode: "TOO_MANY_REQUESTS", calls: map[string]int{"GetAccountsDetail": faultAttempts}, retried: true},
		{name: "CARD_IN_USE, then good", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.First(1, flinkstest.FlinksError(400, "CARD_IN_USE", "The card is in use", ""), flinkstest.Pending("OPERATION_PENDING")),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetail": 2}, retried: true},

		// Session loss: one re-authorization, not two.
		{name: "SESSION_NONEXISTENT once: re-authorize, then ready", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.First(1, flinkstest.FlinksError(400, "SESSION_NONEXISTENT", "Inputs session id or card if were not found.", ""), flinkstest.DetailFor(faultLoginID)),
		}), want: store.StateReady, calls: map[string]int{"Authorize": 2, "GetAccountsDetail": 2, "GetAccountsDetailAsync": 2}},
		{name: "SESSION_NONEXISTENT twice: failure", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.FlinksError(400, "SESSION_NONEXISTENT", "Inputs session id or card if were not found.", "")),
		}), want: store.StateFailed, wantCode: "SESSION_NONEXISTENT", calls: map[string]int{"Authorize": 2, "GetAccountsDetail": 2, "GetAccountsDetailAsync": 2}},

		// Pending: dispatched is pending too; the cap ends an endless one.
		{name: "OPERATION_DISPATCHED, then 200", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail":      flinkstest.Always(flinkstest.Pending("OPERATION_DISPATCHED")),
			"GetAccountsDetailAsync": flinkstest.First(2, flinkstest.Pending("OPERATION_DISPATCHED"), flinkstest.DetailFor(faultLoginID)),
		}), want: store.StateReady, calls: map[string]int{"GetAccountsDetail": 1, "GetAccountsDetailAsync": 3}},
		{name: "202 forever: timed out at the cap", script: on(map[string]flinkstest.Script{
			"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Pending("OPERATION_PENDING")),
		}), want: store.StateTimedOut, wantCode: flinks.CodeTimedOut, calls: map[string]int{"GetAccountsDetail": 1}, min: faultCap},

		// The person must act: never retried.
		{name: "DISABLED_LOGIN", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.FlinksError(401, "DISABLED_LOGIN", "The account is disabled", "")),
		}), want: store.StateFailed, wantCode: "DISABLED_LOGIN", calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 0}},
		{name: "INVALID_LOGIN on cached Authorize", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.FlinksError(401, "INVALID_LOGIN", "The LoginId provided is either invalid or does not belong to the CustomerId "+faultLoginID, "")),
		}), want: store.StateFailed, wantCode: "INVALID_LOGIN", calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 0}},
		{name: "MFA challenge (203) on cached Authorize", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.Reply(203, `{"HttpStatusCode":203,"RequestId":"req-1","SecurityChallenges":[{"Type":"QuestionAndAnswer","Prompt":"What city were you born in?"}]}`)),
		}), want: store.StateFailed, wantCode: flinks.CodeMFARequired, calls: map[string]int{"Authorize": 1, "GetAccountsDetail": 0}},

		// Other 4xx and redirects: retrying cannot help.
		{name: "INVALID_REQUEST 400", script: on(map[string]flinkstest.Script{
			"GetAccountsDetail": flinkstest.Always(flinkstest.FlinksError(400, "INVALID_REQUEST", "The request is invalid", "")),
		}), want: store.StateFailed, wantCode: "INVALID_REQUEST", calls: map[string]int{"GetAccountsDetail": 1}},
		{name: "404 page (wrong customer id)", script: on(map[string]flinkstest.Script{
			"Authorize": flinkstest.Always(flinkstest.HTML(404)),
		}), want: store.StateFailed, wantCode: "HTTP_404", calls: map[string]int{"Authorize": 1}},
		{name: "3xx upRedirect to elsewhere: not followed with keys", script: func(elsewhere string) map[string]flinkstest.Script {
			return map[string]flinkstest.Script{"GetAccountsDetail": flinkstest.Always(flinkstest.Redirect(elsewhere + "/steal"))}
		}, want: store.StateFailed, wantCode: "HTTP_302", calls: map[string]int{"GetAccountsDetail": 1, "GetAccountsDetailAsync": 0}},
	}
}

func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	for _, row := range faultMatrix() {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			var strayed atomic.Int32
			elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				strayed.Add(1)
				if r.Header.Get("x-api-key") != "" || r.Header.Get("flinks-auth-key") != "" {
					t.Errorf("a key followed the upRedirect: %v", r.Header)
				}
			}))
			t.Cleanup(elsewhere.Close)
			up := newUpstream(t, row.script(elsewhere.URL))
			// The production HTTP client, which refuses redirects.
			client, db, link := faultFixture(t, up)

			limit := faultCap
			if row.cap > 0 {
				limit = row.cap
			}
			f := fetcher.New(t.Context(), faultLog(), db, client, fetcher.Options{
				PollInterval: faultPoll, Timeout: limit,
				BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond, CallTimeout: faultCallTimeout,
			})
			start := time.Now()
			f.Start(link.ID, link.Fetch)
			got := faultAwaitEnd(t, db, link.ID, 30*time.Second)
			elapsed := time.Since(start)
			faultWaitFetcher(t, f, 10*time.Second)

			if got.State != row.want || got.ErrorCode != row.wantCode {
				t.Fatalf("ended %s %q (%s), want %s %q", got.State, got.ErrorCode, got.ErrorMessage, row.want, row.wantCode)
			}
			if elapsed < row.min {
				t.Errorf("ended after %v, before the %v the fault takes", elapsed, row.min)
			}
			for endpoint, want := range row.calls {
				if n := up.Count(endpoint); n != want {
					t.Errorf("%s called %d times, want %d", endpoint, n, want)
				}
			}
			if n := strayed.Load(); n != 0 {
				t.Errorf("%d requests reached the upRedirect target", n)
			}

			events, err := db.Events(t.Context(), link.ID)
			if err != nil {
				t.Fatal(err)
			}
			retried := false
			for _, e := range events {
				retried = retried || e.State == store.StateRetrying
			}
			if retried != row.retried {
				t.Errorf("timeline retried = %v, want %v: %v", retried, row.retried, faultTimeline(events))
			}
			calls, err := db.Calls(t.Context(), link.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range calls {
				text := c.Err + c.RequestID + c.FlinksCode + string(c.Body)
				if strings.Contains(strings.ToLower(text), faultLoginID) {
					t.Errorf("stored call reveals the LoginId: %+v", c)
				}
			}

			if row.want == store.StateReady {
				snap, err := db.Snapshot(t.Context(), link.ID)
				if err != nil || len(snap.Accounts) != 1 || *snap.Accounts[0].Current != 510550 {
					t.Fatalf("snapshot = %+v, %v; want the one account", snap, err)
				}
				if snap.StaleCode != row.stale {
					t.Errorf("snapshot stale code %q, want %q", snap.StaleCode, row.stale)
				}
				if row.kept > 0 && (len(snap.Accounts[0].Transactions) != row.kept || snap.UnreadableTransactions != row.unreadable) {
					t.Errorf("snapshot kept %d transactions (%d unreadable), want %d (%d unreadable)",
						len(snap.Accounts[0].Transactions), snap.UnreadableTransactions, row.kept, row.unreadable)
				}
				return
			}
			if strings.Contains(strings.ToLower(got.ErrorMessage), faultLoginID) {
				t.Errorf("error message reveals the LoginId: %q", got.ErrorMessage)
			}
			title, message, action, specific := handlers.ExplainCode(got.ErrorCode)
			if !specific || title == "" || message == "" || action == "" {
				t.Errorf("code %s gets the generic explanation %q / %q / %q", got.ErrorCode, title, message, action)
			}
		})
	}
}

// TestFaultMatrixShutdownMidFault: stopping the server while the upstream is
// misbehaving (a stalled call) ends the fetch at once and leaves the link
// unfinished, to be resumed at the next start, not failed.
func TestFaultMatrixShutdownMidFault(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, map[string]flinkstest.Script{"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Stall(200, flinkstest.DetailBody("req-1", faultLoginID), time.Hour))})
	client, db, link := faultFixture(t, up)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := fetcher.New(ctx, faultLog(), db, client, fetcher.Options{PollInterval: faultPoll, Timeout: time.Minute, CallTimeout: time.Minute})
	f.Start(link.ID, link.Fetch)
	deadline := time.Now().Add(5 * time.Second)
	for up.Count("GetAccountsDetailAsync") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the poll never started")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	faultWaitFetcher(t, f, 10*time.Second)
	l, err := db.Link(t.Context(), link.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l.State.Terminal() || l.RequestID != "req-1" {
		t.Errorf("after shutdown: %s %q (%s), want unfinished on req-1", l.State, l.ErrorCode, l.RequestID)
	}
}

func faultLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func faultAwaitEnd(t *testing.T, db *store.DB, id string, within time.Duration) store.Link {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		l, err := db.Link(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if l.State.Terminal() {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s after %v: the fetch hangs", l.State, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func faultWaitFetcher(t *testing.T, f *fetcher.Fetcher, within time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { f.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("the fetch goroutine did not return within %v", within)
	}
}

func faultTimeline(events []store.Event) string {
	var s []string
	for _, e := range events {
		s = append(s, string(e.State))
	}
	return strings.Join(s, ",")
}

// TestResumedFetchKeepsItsTimeLimit restarts a fetch that has been pending for
// two minutes under a one-minute limit: the limit counts from the first 202
// stored before the restart, so the resumed fetch stops at once (at most one
// poll) instead of polling for another minute.
func TestResumedFetchKeepsItsTimeLimit(t *testing.T) {
	up := newUpstream(t, map[string]flinkstest.Script{
		"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Pending("OPERATION_PENDING")),
	})
	client, _, _ := faultFixture(t, up)
	twoMinutesAgo := time.Now().Add(-2 * time.Minute)
	clock := twoMinutesAgo
	db, err := store.Open(t.Context(), storeLocation(t), make([]byte, 32),
		store.WithNow(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	link, _, err := db.CreateLink(t.Context(), store.NewLink{SessionID: "s1", LoginID: faultLoginID, Institution: "FlinksCapital"})
	if err != nil {
		t.Fatal(err)
	}
	// The first run got as far as Flinks' 202s, two minutes ago, then the process stopped.
	for polls := 1; polls <= 2; polls++ {
		if err := db.RecordState(t.Context(), link.ID, 1, store.StateUpdate{
			State: store.StatePending, RequestID: "req-1", Polls: polls, Note: store.NoteOf(store.NotePending, polls),
		}); err != nil {
			t.Fatal(err)
		}
	}
	clock = time.Now()
	f := fetcher.New(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)), db, client,
		fetcher.Options{PollInterval: faultPoll, Timeout: time.Minute})
	if n, err := f.Resume(t.Context()); err != nil || n != 1 {
		t.Fatalf("Resume = %d, %v", n, err)
	}
	f.Wait()
	got, _ := db.Link(t.Context(), link.ID)
	if got.State != store.StateTimedOut {
		t.Fatalf("resumed link ended %s %s, want timed_out", got.State, got.ErrorCode)
	}
	if n := up.Count("GetAccountsDetailAsync"); n > 1 {
		t.Errorf("the resumed fetch polled %d times past its limit, want at most 1", n)
	}
	if !got.PendingSince.Equal(twoMinutesAgo.Truncate(time.Millisecond)) {
		t.Errorf("PendingSince %v, want the first 202 before the restart, %v", got.PendingSince, twoMinutesAgo)
	}
}

// TestCancelStopsTheCalls stops a fetch that Flinks keeps answering 202: the
// link ends failed with CANCELLED at once, and no Flinks call starts after the
// fetch has wound down.
func TestCancelStopsTheCalls(t *testing.T) {
	up := newUpstream(t, map[string]flinkstest.Script{
		"GetAccountsDetailAsync": flinkstest.Always(flinkstest.Pending("OPERATION_PENDING")),
	})
	client, db, link := faultFixture(t, up)
	f := fetcher.New(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)), db, client,
		fetcher.Options{PollInterval: faultPoll, Timeout: time.Hour})
	f.Start(link.ID, link.Fetch)
	deadline := time.Now().Add(10 * time.Second)
	for up.Count("GetAccountsDetailAsync") < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := f.Cancel(t.Context(), link.ID, link.Fetch); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Link(t.Context(), link.ID)
	if got.State != store.StateFailed || got.ErrorCode != flinks.CodeCancelled {
		t.Fatalf("after Cancel: %s %s", got.State, got.ErrorCode)
	}
	f.Wait() // returns only once the call sequence has ended
	calls := up.Count("GetAccountsDetailAsync")
	if f.Running() != 0 {
		t.Errorf("%d fetches still running", f.Running())
	}
	// A fresh fetcher's Resume finds nothing to resume: the link is over.
	f2 := fetcher.New(t.Context(), slog.New(slog.NewTextHandler(io.Discard, nil)), db, client, fetcher.Options{PollInterval: faultPoll})
	if n, _ := f2.Resume(t.Context()); n != 0 {
		t.Errorf("Resume picked up %d cancelled links", n)
	}
	f2.Wait()
	if n := up.Count("GetAccountsDetailAsync"); n != calls {
		t.Errorf("Flinks got %d more polls after the fetch ended", n-calls)
	}
	if err := f.Cancel(t.Context(), link.ID, link.Fetch); !errors.Is(err, store.ErrStale) {
		t.Errorf("Cancel of an ended fetch = %v, want ErrStale", err)
	}
	events, _ := db.Events(t.Context(), link.ID)
	if last := events[len(events)-1]; last.Note.Kind != store.NoteCancelled {
		t.Errorf("last timeline entry %v, want cancelled", last.Note)
	}
}
