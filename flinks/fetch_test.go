package flinks_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks"
	"flinkslink/flinks/flinkstest"
)

var keys = flinks.Config{APIKey: testAPIKey, SecretKey: testSecret}

func TestFetchCachedPendingThenReady(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	f.on("GetAccountsDetailAsync", func(n int) answer {
		if n < 4 {
			return pending("OPERATION_PENDING", "req-1")
		}
		return answer{status: 200, body: detailOK("req-1")}
	})
	c := f.client(t, keys)
	var tr trace
	opts := fastOpts()
	opts.PollInterval = 20 * time.Millisecond
	d, err := c.FetchCached(t.Context(), testLoginID, tr.opts(opts))
	if err != nil {
		t.Fatal(err)
	}
	if d.RequestID != "req-1" || len(d.Accounts) != 1 || *d.Accounts[0].Balance.Current != 1234 || *d.Accounts[0].Transactions[0].Debit != 150 {
		t.Errorf("detail = %+v", d)
	}

	reqs := f.requests()
	equal(t, "endpoints", f.endpoints(), []string{"GenerateAuthorizeToken", "Authorize", "GetAccountsDetail",
		"GetAccountsDetailAsync", "GetAccountsDetailAsync", "GetAccountsDetailAsync", "GetAccountsDetailAsync"})

	gat, auth, det := reqs[0], reqs[1], reqs[2]
	if gat.Method != "POST" || gat.Header.Get("flinks-auth-key") != testSecret {
		t.Errorf("GenerateAuthorizeToken: %s, auth key %q", gat.Method, gat.Header.Get("flinks-auth-key"))
	}
	if auth.Method != "POST" || auth.Header.Get("flinks-auth-key") != tokenN(1) || auth.Header.Get("x-api-key") != "" ||
		auth.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Authorize: %s headers %v", auth.Method, auth.Header)
	}
	jsonEqual(t, "Authorize body", auth.Body, fmt.Sprintf(`{"LoginId":%q,"MostRecentCached":true}`, testLoginID))
	if det.Method != "POST" || det.Header.Get("x-api-key") != testAPIKey {
		t.Errorf("GetAccountsDetail: %s headers %v", det.Method, det.Header)
	}
	jsonEqual(t, "GetAccountsDetail body", det.Body, `{"RequestId":"req-1","DaysOfTransactions":"Days90",
		"WithAccountIdentity":true,"WithKYC":true,"WithTransactions":true,"WithBalance":true}`)
	for i, r := range reqs[3:] {
		if r.Method != "GET" || r.ID != "req-1" || len(r.Body) != 0 || r.Header.Get("x-api-key") != testAPIKey || r.Header.Get("Accept") != "application/json" {
			t.Errorf("poll %d: %s id %q body %q headers %v", i+1, r.Method, r.ID, r.Body, r.Header)
		}
		if gap := r.At.Sub(reqs[2+i].At); gap < opts.PollInterval {
			t.Errorf("poll %d came %v after the previous call, want ≥ %v", i+1, gap, opts.PollInterval)
		}
	}

	equal(t, "calls", tr.callSummary(), []string{
		"POST GenerateAuthorizeToken 200 #1",
		"POST Authorize 200 #1",
		"POST GetAccountsDetail 202 #1",
		"GET GetAccountsDetailAsync 202 #1",
		"GET GetAccountsDetailAsync 202 #2",
		"GET GetAccountsDetailAsync 202 #3",
		"GET GetAccountsDetailAsync 200 #4",
	})
	for _, call := range tr.calls {
		if call.Started.IsZero() || call.Duration <= 0 || call.Body == nil || call.Err != "" {
			t.Errorf("call %+v: want Started, Duration, Body and no Err", call)
		}
		if call.Endpoint != "GenerateAuthorizeToken" && call.RequestID != "req-1" {
			t.Errorf("call %s RequestID = %q", call.Endpoint, call.RequestID)
		}
	}
	if tr.calls[2].FlinksCode != "OPERATION_PENDING" || !strings.Contains(string(tr.calls[6].Body), `"acct-1"`) {
		t.Errorf("calls carry FlinksCode and Body: %+v", tr.calls[2])
	}

	equal(t, "stages", tr.stages(), []flinks.Stage{flinks.StageAuthorizing, flinks.StageFetching,
		flinks.StagePending, flinks.StagePending, flinks.StagePending, flinks.StagePending, flinks.StageReady})
	tr.checkTerminal(t, flinks.StageReady)
	if s := tr.states[0]; s.RequestID != "" || s.Polls != 0 {
		t.Errorf("authorizing state = %+v", s)
	}
	for i, s := range tr.states[2:6] {
		if s.Polls != i+1 || s.RequestID != "req-1" || s.NextPoll.IsZero() || s.Err != nil {
			t.Errorf("pending state %d = %+v", i, s)
		}
	}
	if s := tr.states[6]; s.RequestID != "req-1" || s.Polls != 4 || s.Err != nil {
		t.Errorf("ready state = %+v", s)
	}
}

func jsonEqual(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s is not JSON: %s", what, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s\nwant %s", what, got, want)
	}
}

func TestFetchCachedDispatchedIsPending(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_DISPATCHED", "req-1") })
	f.on("GetAccountsDetailAsync", func(n int) answer {
		if n == 1 {
			return pending("OPERATION_DISPATCHED", "req-1")
		}
		return answer{status: 200, body: detailOK("req-1")}
	})
	var tr trace
	opts := fastOpts()
	opts.DaysOfTransactions = flinks.Days365
	d, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
	if err != nil || d == nil {
		t.Fatalf("FetchCached = %v, %v", d, err)
	}
	if got := f.count("GetAccountsDetailAsync"); got != 2 {
		t.Errorf("polls = %d, want 2", got)
	}
	if !strings.Contains(string(f.requests()[2].Body), `"DaysOfTransactions":"Days365"`) {
		t.Errorf("DaysOfTransactions not passed: %s", f.requests()[2].Body)
	}
	tr.checkTerminal(t, flinks.StageReady)
}

func TestFetchCachedReauthorizesOnce(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(n int) answer {
		if n == 1 {
			return pending("OPERATION_PENDING", "req-1")
		}
		return answer{status: 200, body: detailOK("req-2")}
	})
	f.on("GetAccountsDetailAsync", func(n int) answer {
		if n == 1 {
			return pending("OPERATION_PENDING", "req-1")
		}
		return flinksError(400, "SESSION_NONEXISTENT", "Inputs session id or card if were not found.", "req-1")
	})
	var tr trace
	d, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts()))
	if err != nil {
		t.Fatal(err)
	}
	if d.RequestID != "req-2" {
		t.Errorf("RequestID = %q, want the new session's", d.RequestID)
	}
	equal(t, "endpoints", f.endpoints(), []string{
		"GenerateAuthorizeToken", "Authorize", "GetAccountsDetail", "GetAccountsDetailAsync", "GetAccountsDetailAsync",
		"GenerateAuthorizeToken", "Authorize", "GetAccountsDetail",
	})
	reqs := f.requests()
	if reqs[6].Header.Get("flinks-auth-key") != tokenN(2) {
		t.Errorf("re-authorize must use a fresh token, got %q", reqs[6].Header.Get("flinks-auth-key"))
	}
	if !strings.Contains(string(reqs[7].Body), `"RequestId":"req-2"`) {
		t.Errorf("second GetAccountsDetail body = %s", reqs[7].Body)
	}
	equal(t, "stages", tr.stages(), []flinks.Stage{
		flinks.StageAuthorizing, flinks.StageFetching, flinks.StagePending, flinks.StagePending,
		flinks.StageAuthorizing, flinks.StageFetching, flinks.StageReady,
	})
}

func TestFetchCachedSecondSessionLossFails(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(n int) answer { return pending("OPERATION_PENDING", requestIDN(n)) })
	f.on("GetAccountsDetailAsync", func(n int) answer {
		return flinksError(400, "SESSION_NONEXISTENT", "Inputs session id or card if were not found.", "")
	})
	var tr trace
	d, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts()))
	var fe *flinks.Error
	if d != nil || !errors.As(err, &fe) || fe.Kind() != flinks.KindReauthorize || fe.RequestID != "req-2" {
		t.Fatalf("FetchCached = %v, %v", d, err)
	}
	if f.count("Authorize") != 2 || f.count("GetAccountsDetailAsync") != 2 {
		t.Errorf("calls = %v, want 2 Authorize and 2 polls", f.endpoints())
	}
	tr.checkTerminal(t, flinks.StageFailed)
	if last := tr.states[len(tr.states)-1]; last.Err != err {
		t.Errorf("failed state Err = %v, want the returned error", last.Err)
	}
}

func TestFetchCachedRetriesServerErrors(t *testing.T) {
	t.Parallel()
	t.Run("GetAccountsDetail", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.on("GetAccountsDetail", func(n int) answer {
			if n <= 3 {
				return answer{status: 503, body: "<html>Service Unavailable</html>"}
			}
			return answer{status: 200, body: detailOK("req-1")}
		})
		var tr trace
		if _, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts())); err != nil {
			t.Fatal(err)
		}
		equal(t, "calls", tr.callSummary(), []string{
			"POST GenerateAuthorizeToken 200 #1", "POST Authorize 200 #1",
			"POST GetAccountsDetail 503 #1", "POST GetAccountsDetail 503 #2", "POST GetAccountsDetail 503 #3", "POST GetAccountsDetail 200 #4",
		})
		equal(t, "stages", tr.stages(), []flinks.Stage{
			flinks.StageAuthorizing,
			flinks.StageFetching, flinks.StageRetrying, flinks.StageFetching, flinks.StageRetrying,
			flinks.StageFetching, flinks.StageRetrying, flinks.StageFetching, flinks.StageReady,
		})
		for _, s := range tr.states {
			if s.Stage != flinks.StageRetrying {
				continue
			}
			var fe *flinks.Error
			if !errors.As(s.Err, &fe) || fe.StatusCode != 503 || s.NextPoll.IsZero() {
				t.Errorf("retrying state = %+v", s)
			}
		}
	})
	t.Run("poll", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
		f.on("GetAccountsDetailAsync", func(n int) answer {
			switch {
			case n == 1:
				return pending("OPERATION_PENDING", "req-1")
			case n <= 4:
				return answer{status: 500, body: `{"HttpStatusCode":500,"FlinksCode":"AGGREGATION_ERROR","Message":"x"}`}
			}
			return answer{status: 200, body: detailOK("req-1")}
		})
		var tr trace
		if _, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts())); err != nil {
			t.Fatal(err)
		}
		equal(t, "stages", tr.stages(), []flinks.Stage{
			flinks.StageAuthorizing, flinks.StageFetching, flinks.StagePending, flinks.StagePending,
			flinks.StageRetrying, flinks.StageRetrying, flinks.StageRetrying, flinks.StageReady,
		})
		if got := tr.callSummary()[len(tr.calls)-1]; got != "GET GetAccountsDetailAsync 200 #5" {
			t.Errorf("last call = %q, want the 5th poll", got)
		}
	})
}

// A cached Authorize replays the card's last refresh: its RETRY_LATER is
// asked once more, not MaxRetries times, then reported as Flinks said it.
func TestFetchCachedReplayedRetryLaterIsRetriedOnce(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("Authorize", func(int) answer {
		return flinksError(401, "RETRY_LATER", "Could not open a connection with the institution", "")
	})
	var tr trace
	opts := fastOpts()
	opts.MaxRetries = 2
	_, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
	var fe *flinks.Error
	if !errors.As(err, &fe) || fe.Kind() != flinks.KindRetryLater || flinks.KindOf(err) != flinks.KindRetryLater {
		t.Fatalf("err = %v", err)
	}
	if f.count("Authorize") != 2 || f.count("GenerateAuthorizeToken") != 2 {
		t.Errorf("calls = %v, want 2 attempts, each with its own token", f.endpoints())
	}
	var tokens []string
	for _, r := range f.requests() {
		if r.Endpoint == "Authorize" {
			tokens = append(tokens, r.Header.Get("flinks-auth-key"))
		}
	}
	equal(t, "tokens", tokens, []string{tokenN(1), tokenN(2)})
	equal(t, "stages", tr.stages(), []flinks.Stage{
		flinks.StageAuthorizing, flinks.StageRetrying, flinks.StageAuthorizing, flinks.StageFailed,
	})
	equal(t, "calls", tr.callSummary(), []string{
		"POST GenerateAuthorizeToken 200 #1", "POST Authorize 401 #1",
		"POST GenerateAuthorizeToken 200 #2", "POST Authorize 401 #2",
	})
}

func TestFetchCachedNoRetries(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(int) answer { return answer{status: 502, body: "bad gateway"} })
	opts := fastOpts()
	opts.MaxRetries = -1
	_, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, opts)
	if flinks.KindOf(err) != flinks.KindRetryLater || f.count("GetAccountsDetail") != 1 {
		t.Errorf("err = %v, calls %d", err, f.count("GetAccountsDetail"))
	}
}

func TestFetchCachedTerminalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		answer   answer
		wantKind flinks.Kind
		wantCode string
	}{
		{"disabled login on Authorize", "Authorize", flinksError(401, "DISABLED_LOGIN", "disabled", ""), flinks.KindNeedsUser, "DISABLED_LOGIN"},
		{"invalid LoginId", "Authorize", flinksError(401, "INVALID_LOGIN", "The LoginId provided is either invalid or does not belong to the CustomerId", ""), flinks.KindNeedsUser, "INVALID_LOGIN"},
		{"MFA on a cached Authorize", "Authorize", answer{status: 203, body: fixture(t, "authorize_203.json")}, flinks.KindNeedsUser, ""},
		{"disabled login on data", "GetAccountsDetail", flinksError(401, "DISABLED_LOGIN", "disabled", "req-1"), flinks.KindNeedsUser, "DISABLED_LOGIN"},
		{"bad secret", "GenerateAuthorizeToken", flinksError(401, "UNAUTHORIZED", "You must provide a valid auth key", ""), flinks.KindMisconfigured, "UNAUTHORIZED"},
		{"bad api key", "GetAccountsDetail", answer{status: 403, body: `{"message":"Forbidden"}`}, flinks.KindMisconfigured, ""},
		{"400 without a code", "GetAccountsDetail", answer{status: 400, body: `{"Message":"bad"}`}, flinks.KindUnexpected, ""},
		{"invalid request", "GetAccountsDetail", flinksError(400, "INVALID_REQUEST", "missing field", "req-1"), flinks.KindMisconfigured, "INVALID_REQUEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.on(tt.endpoint, func(int) answer { return tt.answer })
			var tr trace
			d, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts()))
			var fe *flinks.Error
			if d != nil || !errors.As(err, &fe) || fe.Kind() != tt.wantKind || fe.FlinksCode != tt.wantCode {
				t.Fatalf("FetchCached = %v, %v; want kind %v code %q", d, err, tt.wantKind, tt.wantCode)
			}
			if n := f.count(tt.endpoint); n != 1 {
				t.Errorf("%s called %d times, want 1 (no retry)", tt.endpoint, n)
			}
			tr.checkTerminal(t, flinks.StageFailed)
			for _, s := range tr.stages() {
				if s == flinks.StageRetrying {
					t.Errorf("terminal error was retried: %v", tr.stages())
				}
			}
		})
	}
}

func TestFetchCachedTimeout(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	f.on("GetAccountsDetailAsync", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	var tr trace
	opts := fastOpts()
	opts.PollInterval = 10 * time.Millisecond
	opts.Timeout = 75 * time.Millisecond
	start := time.Now()
	d, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
	elapsed := time.Since(start)
	if d != nil || !errors.Is(err, flinks.ErrTimedOut) {
		t.Fatalf("FetchCached = %v, %v; want ErrTimedOut", d, err)
	}
	var fe *flinks.Error
	if !errors.As(err, &fe) || fe.FlinksCode != "OPERATION_PENDING" || flinks.KindOf(err) != flinks.KindRetryLater {
		t.Errorf("timeout error should wrap the last 202: %v (KindOf %v)", err, flinks.KindOf(err))
	}
	if elapsed < opts.Timeout || elapsed > 30*time.Second {
		t.Errorf("took %v, want about %v", elapsed, opts.Timeout)
	}
	tr.checkTerminal(t, flinks.StageTimedOut)
	last := tr.states[len(tr.states)-1]
	accepted := 0
	for _, c := range tr.calls {
		if c.StatusCode == 202 {
			accepted++
		}
	}
	if last.Err != err || last.Polls < 5 || last.Polls != accepted {
		t.Errorf("timed_out state = %+v; the client saw %d answers 202 (server: %d polls)", last, accepted, f.count("GetAccountsDetailAsync"))
	}
	// The final poll is not a full interval before the deadline. (That it is
	// not after the deadline is proven on a fake clock, below: here a busy
	// machine may delay it.) The server stamps a request when it arrives, the
	// client starts the cap when the 202 comes back: allow that round trip.
	reqs := f.requests()
	if span := reqs[len(reqs)-1].At.Sub(reqs[2].At); span < opts.Timeout-opts.PollInterval {
		t.Errorf("first 202 to last poll = %v, want ≈ %v", span, opts.Timeout)
	}
}

func TestFetchCachedTimeoutDefaultWithFakeClock(t *testing.T) {
	t.Parallel()
	clk := flinkstest.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	f := newFake(t)
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	f.on("GetAccountsDetailAsync", func(int) answer {
		clk.Advance(10 * time.Minute) // each poll "takes" ten minutes
		return pending("OPERATION_PENDING", "req-1")
	})
	var tr trace
	// Default Timeout (30 min); only the interval is shortened for real waits.
	opts := flinks.FetchOptions{PollInterval: time.Millisecond, Now: clk.Now}
	_, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
	if !errors.Is(err, flinks.ErrTimedOut) {
		t.Fatalf("err = %v, want ErrTimedOut", err)
	}
	if got := f.count("GetAccountsDetailAsync"); got != 3 {
		t.Errorf("polls = %d, want 3 (at +10, +20, +30 min)", got)
	}
	if !strings.Contains(err.Error(), "after 4 polls over 30m0s") {
		t.Errorf("err = %q", err)
	}
	if tr.calls[0].Started != time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) {
		t.Errorf("Call.Started should come from opts.Now: %v", tr.calls[0].Started)
	}
}

func TestFetchCachedCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var tr trace
	opts := fastOpts()
	opts.PollInterval = time.Hour // cancellation must not wait for it
	opts.OnState = func(s flinks.StateChange) {
		if s.Stage == flinks.StagePending {
			time.AfterFunc(20*time.Millisecond, cancel)
		}
	}
	start := time.Now()
	d, err := f.client(t, keys).FetchCached(ctx, testLoginID, tr.opts(opts))
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("returned after %v, want promptly", elapsed)
	}
	if d != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("FetchCached = %v, %v; want context.Canceled", d, err)
	}
	if f.count("GetAccountsDetailAsync") != 0 {
		t.Error("polled after cancellation")
	}
	tr.checkTerminal(t, flinks.StageFailed)
}

func TestFetchCachedCancelDuringCall(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	f.on("GetAccountsDetailAsync", func(int) answer {
		time.AfterFunc(20*time.Millisecond, cancel)
		return answer{hang: true}
	})
	var tr trace
	start := time.Now()
	_, err := f.client(t, keys).FetchCached(ctx, testLoginID, tr.opts(fastOpts()))
	if elapsed := time.Since(start); elapsed > 30*time.Second { // the call hangs for good
		t.Errorf("returned after %v", elapsed)
	}
	if !errors.Is(err, context.Canceled) || flinks.KindOf(err) != flinks.KindUnexpected {
		t.Fatalf("err = %v", err)
	}
	last := tr.calls[len(tr.calls)-1]
	if last.Endpoint != "GetAccountsDetailAsync" || last.StatusCode != 0 || last.Body != nil || !strings.Contains(last.Err, "context canceled") {
		t.Errorf("cancelled call = %+v", last)
	}
	tr.checkTerminal(t, flinks.StageFailed)
}

func TestFetchCachedCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var tr trace
	_, err := f.client(t, keys).FetchCached(ctx, testLoginID, tr.opts(fastOpts()))
	if !errors.Is(err, context.Canceled) || len(f.requests()) != 0 {
		t.Errorf("err = %v, requests %d", err, len(f.requests()))
	}
	tr.checkTerminal(t, flinks.StageFailed)
}

func TestFetchCachedResume(t *testing.T) {
	t.Parallel()
	t.Run("ready", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		var tr trace
		opts := fastOpts()
		opts.ResumeRequestID = "req-old"
		d, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
		if err != nil || d.RequestID != "req-old" {
			t.Fatalf("FetchCached = %+v, %v", d, err)
		}
		equal(t, "endpoints", f.endpoints(), []string{"GetAccountsDetailAsync"})
		if r := f.requests()[0]; r.Method != "GET" || r.ID != "req-old" {
			t.Errorf("resume poll = %s %s", r.Method, r.ID)
		}
		equal(t, "stages", tr.stages(), []flinks.Stage{flinks.StageFetching, flinks.StageReady})
		equal(t, "calls", tr.callSummary(), []string{"GET GetAccountsDetailAsync 200 #1"})
	})
	t.Run("pending", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.on("GetAccountsDetailAsync", func(n int) answer {
			if n == 1 {
				return pending("OPERATION_PENDING", "req-old")
			}
			return answer{status: 200, body: detailOK("req-old")}
		})
		var tr trace
		opts := fastOpts()
		opts.ResumeRequestID = "req-old"
		if _, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts)); err != nil {
			t.Fatal(err)
		}
		equal(t, "stages", tr.stages(), []flinks.Stage{flinks.StageFetching, flinks.StagePending, flinks.StageReady})
		equal(t, "endpoints", f.endpoints(), []string{"GetAccountsDetailAsync", "GetAccountsDetailAsync"})
	})
	t.Run("expired falls back to Authorize", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.on("GetAccountsDetail", func(n int) answer {
			if n == 1 {
				return pending("OPERATION_PENDING", "req-1")
			}
			return answer{status: 200, body: detailOK("req-2")}
		})
		f.on("GetAccountsDetailAsync", func(n int) answer {
			// The resumed id is gone, and later the new session expires too:
			// the fallback must not have used up the one re-authorization.
			return flinksError(400, "SESSION_NONEXISTENT", "not found", "")
		})
		var tr trace
		opts := fastOpts()
		opts.ResumeRequestID = "req-old"
		d, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
		if err != nil || d.RequestID != "req-2" {
			t.Fatalf("FetchCached = %v, %v", d, err)
		}
		equal(t, "endpoints", f.endpoints(), []string{
			"GetAccountsDetailAsync",
			"GenerateAuthorizeToken", "Authorize", "GetAccountsDetail", "GetAccountsDetailAsync",
			"GenerateAuthorizeToken", "Authorize", "GetAccountsDetail",
		})
		if ids := []string{f.requests()[0].ID, f.requests()[4].ID}; ids[0] != "req-old" || ids[1] != "req-1" {
			t.Errorf("poll ids = %v", ids)
		}
		equal(t, "stages", tr.stages(), []flinks.Stage{
			flinks.StageFetching,
			flinks.StageAuthorizing, flinks.StageFetching, flinks.StagePending,
			flinks.StageAuthorizing, flinks.StageFetching, flinks.StageReady,
		})
	})
}

func TestFetchCachedNetworkErrors(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	// POST is not replayed by net/http, so each dropped connection is one failure.
	f.on("GetAccountsDetail", func(n int) answer {
		if n <= 2 {
			return answer{close: true}
		}
		return answer{status: 200, body: detailOK("req-1")}
	})
	var tr trace
	if _, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts())); err != nil {
		t.Fatal(err)
	}
	for _, call := range tr.calls[2:4] {
		if call.StatusCode != 0 || call.Body != nil || call.Err == "" || call.Attempt == 0 {
			t.Errorf("network failure call = %+v", call)
		}
	}
	for _, s := range tr.states {
		if s.Stage == flinks.StageRetrying {
			var te *flinks.TransportError
			if !errors.As(s.Err, &te) {
				t.Errorf("retrying Err = %T %v, want *TransportError", s.Err, s.Err)
			}
		}
	}

	// Exhausted: the last network error is returned.
	g := newFake(t)
	g.on("Authorize", func(int) answer { return answer{close: true} })
	opts := fastOpts()
	opts.MaxRetries = 1
	_, err := g.client(t, keys).FetchCached(t.Context(), testLoginID, opts)
	if flinks.KindOf(err) != flinks.KindRetryLater || !strings.HasPrefix(err.Error(), "flinks: Authorize: ") {
		t.Errorf("err = %v", err)
	}
}

func TestFetchCachedWithoutSecret(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	var tr trace
	if _, err := f.client(t, flinks.Config{}).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts())); err != nil {
		t.Fatal(err)
	}
	equal(t, "endpoints", f.endpoints(), []string{"Authorize", "GetAccountsDetail"})
	for _, r := range f.requests() {
		if _, ok := r.Header["Flinks-Auth-Key"]; ok {
			t.Errorf("%s sent flinks-auth-key without a secret", r.Endpoint)
		}
		if _, ok := r.Header["X-Api-Key"]; ok {
			t.Errorf("%s sent x-api-key without one configured", r.Endpoint)
		}
	}
}

func TestFetchCachedEmptyLoginID(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	var tr trace
	_, err := f.client(t, keys).FetchCached(t.Context(), " ", tr.opts(fastOpts()))
	if err == nil || len(f.requests()) != 0 {
		t.Errorf("err = %v, requests %d", err, len(f.requests()))
	}
	tr.checkTerminal(t, flinks.StageFailed)
}

// TestFetchCachedNeverLeaksSecrets runs failure paths against a Flinks that echoes
// every credential in its messages and checks every error, Call and StateChange.
func TestFetchCachedNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	echo := fmt.Sprintf("LoginId %s key %s secret %s token %s", strings.ToUpper(testLoginID), testAPIKey, testSecret, tokenN(1))
	scenarios := map[string]map[string]func(int) answer{
		"terminal on Authorize": {
			"Authorize": func(int) answer { return flinksError(401, "INVALID_LOGIN", echo, "") },
		},
		"retries exhausted": {
			"GetAccountsDetail": func(int) answer { return flinksError(503, "AGGREGATION_ERROR", echo, "req-1") },
		},
		"session lost twice": {
			"GetAccountsDetail":      func(n int) answer { return pending("OPERATION_PENDING", requestIDN(n)) },
			"GetAccountsDetailAsync": func(int) answer { return flinksError(400, "SESSION_NONEXISTENT", echo, "") },
		},
		"network": {
			"GetAccountsDetail": func(int) answer { return answer{close: true} },
		},
		"timeout": {
			"GetAccountsDetail":      func(int) answer { return flinksError(202, "OPERATION_PENDING", echo, "req-1") },
			"GetAccountsDetailAsync": func(int) answer { return flinksError(202, "OPERATION_PENDING", echo, "req-1") },
		},
		"bad secret": {
			"GenerateAuthorizeToken": func(int) answer { return flinksError(401, "UNAUTHORIZED", echo, "") },
		},
		"success": {},
	}
	for name, scripts := range scenarios {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			for ep, s := range scripts {
				f.on(ep, s)
			}
			var tr trace
			opts := fastOpts()
			opts.MaxRetries = 2
			opts.Timeout = 30 * time.Millisecond
			_, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
			if (err == nil) != (name == "success") {
				t.Fatalf("err = %v", err)
			}
			all := []string{testLoginID, testAPIKey, testSecret, tokenN(1), tokenN(2), tokenN(3)}
			if err != nil {
				mustNotContain(t, "returned error", []byte(err.Error()), all...)
				var fe *flinks.Error
				if errors.As(err, &fe) {
					mustNotContain(t, "Error fields", []byte(fmt.Sprintf("%+v", *fe)), all...)
				}
			}
			// Bodies may carry the LoginId (Login.Id, masked by the app), never a
			// credential: the keys or a token this run actually used.
			creds := []string{testAPIKey, testSecret}
			for _, r := range f.requests() {
				if tok := r.Header.Get("flinks-auth-key"); r.Endpoint == "Authorize" && tok != "" {
					creds = append(creds, tok)
				}
			}
			for _, c := range tr.calls {
				body := c.Body
				c.Body = nil
				mustNotContain(t, "Call", []byte(fmt.Sprintf("%+v", c)), all...)
				mustNotContain(t, "Call.Body", body, creds...)
			}
			for _, s := range tr.states {
				text := fmt.Sprintf("%+v", s)
				if s.Err != nil {
					text += s.Err.Error()
				}
				mustNotContain(t, "StateChange", []byte(text), all...)
			}
		})
	}
}
