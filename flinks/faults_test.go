package flinks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"flinkslink/flinks"
)

// TestBrokenAnswersAreRetried: an answer that arrives incomplete (cut short of its
// Content-Length, dropped mid-body, stalled past CallTimeout, headers never sent)
// or unusable (garbled 200) is a transient failure: the same call is made again
// and the fetch succeeds when the next answer is good.
func TestBrokenAnswersAreRetried(t *testing.T) {
	t.Parallel()
	const callTimeout = 150 * time.Millisecond
	tests := []struct {
		name       string
		broken     answer
		wantStatus int    // Call.StatusCode of the broken call: 0 when no status line arrived
		wantErr    string // in the broken Call.Err
		transport  bool   // the retried error is a *TransportError (and the Call keeps no partial Body)
	}{
		{"truncated body", answer{status: 200, body: detailOK("req-1"), truncate: true}, 200, "unexpected EOF", true},
		{"dropped mid-body", answer{status: 200, body: detailOK("req-1"), cut: true}, 200, "reading the body of an HTTP 200 answer", true},
		{"body stalls past the call timeout", answer{status: 200, body: detailOK("req-1"), stall: time.Hour}, 200, "answer not complete within 150ms", true},
		{"headers never come", answer{hang: true}, 0, "no answer within 150ms", true},
		{"garbled JSON on 200", answer{status: 200, body: `{"HttpStatusCode":200,"Accounts":[{"Id":`}, 200, "unexpected end of JSON input", false},
		{"200 without Accounts", answer{status: 200, body: `{"HttpStatusCode":200,"RequestId":"req-1"}`}, 200, "no Accounts in response", false},
		{"empty 200", answer{status: 200}, 200, "unexpected end of JSON input", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t)
			f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
			f.on("GetAccountsDetailAsync", func(n int) answer {
				if n == 1 {
					return tt.broken
				}
				return answer{status: 200, body: detailOK("req-1")}
			})
			var tr trace
			opts := fastOpts()
			opts.CallTimeout = callTimeout
			start := time.Now()
			d, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
			if err != nil || len(d.Accounts) != 1 {
				t.Fatalf("FetchCached = %+v, %v; want the accounts after one retry", d, err)
			}
			// Far below the stalled call's hour: the call timeout cut it short.
			if elapsed := time.Since(start); elapsed > 30*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if n := f.count("GetAccountsDetailAsync"); n != 2 {
				t.Errorf("GetAccountsDetailAsync called %d times, want 2", n)
			}
			var broken *flinks.Call
			for i := range tr.calls {
				if tr.calls[i].Endpoint == "GetAccountsDetailAsync" {
					broken = &tr.calls[i]
					break
				}
			}
			if broken == nil || broken.StatusCode != tt.wantStatus || !strings.Contains(broken.Err, tt.wantErr) || (tt.transport && broken.Body != nil) {
				t.Errorf("broken call = %+v; want status %d and Err containing %q", broken, tt.wantStatus, tt.wantErr)
			}
			var retried error
			for _, s := range tr.states {
				if s.Stage == flinks.StageRetrying {
					retried = s.Err
				}
			}
			var te *flinks.TransportError
			if retried == nil || flinks.KindOf(retried) != flinks.KindRetryLater || errors.As(retried, &te) != tt.transport {
				t.Errorf("retrying state Err = %T %v; want KindRetryLater, transport %v", retried, retried, tt.transport)
			}
			tr.checkTerminal(t, flinks.StageReady)
		})
	}
}

// TestCallTimeoutStormFails: a call that never answers is given up after
// MaxRetries+1 attempts of CallTimeout each, with a network error, not hung on.
func TestCallTimeoutStormFails(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("Authorize", func(int) answer { return answer{hang: true} })
	opts := fastOpts()
	opts.CallTimeout = 50 * time.Millisecond
	opts.MaxRetries = 2
	var tr trace
	start := time.Now()
	_, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
	elapsed := time.Since(start)
	var te *flinks.TransportError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || flinks.KindOf(err) != flinks.KindRetryLater {
		t.Fatalf("err = %T %v; want a *TransportError for the deadline", err, err)
	}
	if f.count("Authorize") != 3 {
		t.Errorf("Authorize called %d times, want 3", f.count("Authorize"))
	}
	if elapsed < 150*time.Millisecond || elapsed > 30*time.Second {
		t.Errorf("gave up after %v, want about 3 × 50ms", elapsed)
	}
	mustNotContain(t, "error", []byte(err.Error()), testLoginID, testAPIKey, testSecret)
	tr.checkTerminal(t, flinks.StageFailed)
}

// TestCancelDuringSlowBody: cancelling the caller's context while a body trickles
// in stops at once with the context's error; it is not mistaken for a network
// failure and retried.
func TestCancelDuringSlowBody(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f.on("GetAccountsDetail", func(int) answer {
		time.AfterFunc(30*time.Millisecond, cancel)
		return answer{status: 200, body: detailOK("req-1"), stall: time.Hour}
	})
	var tr trace
	start := time.Now()
	_, err := f.client(t, keys).FetchCached(ctx, testLoginID, tr.opts(fastOpts()))
	if elapsed := time.Since(start); elapsed > 30*time.Second { // the body stalls for an hour
		t.Errorf("returned after %v", elapsed)
	}
	if !errors.Is(err, context.Canceled) || flinks.KindOf(err) == flinks.KindRetryLater {
		t.Fatalf("err = %v (kind %v); want context.Canceled, not retryable", err, flinks.KindOf(err))
	}
	if f.count("GetAccountsDetail") != 1 {
		t.Errorf("GetAccountsDetail called %d times, want 1", f.count("GetAccountsDetail"))
	}
	tr.checkTerminal(t, flinks.StageFailed)
}

// TestHostileEnvelopeFields: a FlinksCode that is not a code and a RequestId that
// carries the LoginId never reach an error, a Call or the next request's URL.
func TestHostileEnvelopeFields(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("Authorize", func(int) answer {
		return answer{status: 401, body: `{"HttpStatusCode":401,"FlinksCode":"<b>` + testLoginID + `</b>","RequestId":"` + strings.ToUpper(testLoginID) + `","Message":"` + strings.Repeat("x", 5000) + `"}`}
	})
	var tr trace
	_, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts()))
	var fe *flinks.Error
	if !errors.As(err, &fe) || fe.FlinksCode != "" || fe.RequestID != "" || len(fe.Message) > 300 {
		t.Fatalf("err = %#v", err)
	}
	if fe.Kind() != flinks.KindMisconfigured {
		t.Errorf("a 401 without a usable code: Kind %v, want misconfigured", fe.Kind())
	}
	for _, c := range tr.calls {
		if c.FlinksCode != "" && c.Endpoint == "Authorize" || strings.Contains(strings.ToLower(c.RequestID), strings.ToLower(testLoginID)) {
			t.Errorf("call kept a hostile field: %+v", c)
		}
	}

	// An Authorize 200 whose RequestId is the LoginId is not used as a RequestId
	// (it would go into the poller's URL and the app's database).
	g := newFake(t)
	g.on("Authorize", func(n int) answer {
		if n == 1 {
			return answer{status: 200, body: authorizeOK(testLoginID, testLoginID)}
		}
		return answer{status: 200, body: authorizeOK("req-2", testLoginID)}
	})
	var tr2 trace
	if _, err := g.client(t, keys).FetchCached(t.Context(), testLoginID, tr2.opts(fastOpts())); err != nil {
		t.Fatalf("FetchCached = %v; want success after retrying the unusable Authorize", err)
	}
	for _, r := range g.requests() {
		if strings.Contains(r.ID, testLoginID) || (r.Endpoint == "GetAccountsDetail" && strings.Contains(string(r.Body), testLoginID)) {
			t.Errorf("LoginId sent as a RequestId: %s %s %s", r.Endpoint, r.ID, r.Body)
		}
	}
	if g.count("Authorize") != 2 {
		t.Errorf("Authorize called %d times, want 2", g.count("Authorize"))
	}
}

// TestRedirectIsNotFollowedNorRetried: the default HTTP client does not follow a
// redirect (it would forward x-api-key to another host), and the redirect is not
// retried either: it means the base URL is wrong, which repeating cannot fix.
func TestRedirectIsNotFollowedNorRetried(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Add(1) }))
	t.Cleanup(elsewhere.Close)
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		f := newFake(t)
		f.on("GetAccountsDetail", func(int) answer {
			return answer{status: status, body: `{}`, location: elsewhere.URL + "/steal"}
		})
		_, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, fastOpts())
		var fe *flinks.Error
		if !errors.As(err, &fe) || fe.StatusCode != status || fe.Kind() != flinks.KindUnexpected {
			t.Errorf("%d: err = %v", status, err)
		}
		if f.count("GetAccountsDetail") != 1 {
			t.Errorf("%d: GetAccountsDetail called %d times, want 1", status, f.count("GetAccountsDetail"))
		}
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}
}

// A call that stalls for good, with the default 4-minute call timeout and
// retries, once ran 24 minutes past a 60 s limit. The fetch's limit bounds
// the whole fetch: it ends within the limit plus 10 %, as TIMED_OUT.
func TestStalledCallEndsWithinTheFetchLimit(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetailAsync", func(int) answer { return answer{hang: true} })
	f.on("GetAccountsDetail", func(int) answer { return pending("OPERATION_PENDING", "req-1") })
	opts := flinks.FetchOptions{PollInterval: 10 * time.Millisecond, Timeout: 10 * time.Second} // CallTimeout: the default 4 min
	var tr trace
	start := time.Now()
	_, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(opts))
	elapsed := time.Since(start)
	if !errors.Is(err, flinks.ErrTimedOut) {
		t.Fatalf("err = %v, want ErrTimedOut", err)
	}
	if elapsed < opts.Timeout || elapsed > opts.Timeout+opts.Timeout/10 {
		t.Errorf("ended after %v, want within %v + 10 %%", elapsed, opts.Timeout)
	}
	tr.checkTerminal(t, flinks.StageTimedOut)
}

// Retry-After on a 429 or 503 is the wait before the next attempt, when it
// is longer than the backoff.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.on("GetAccountsDetail", func(n int) answer {
		if n == 1 {
			return answer{serve: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "1")
				reply(w, 429, `{"HttpStatusCode":429,"FlinksCode":"TOO_MANY_REQUESTS","Message":"Slow down"}`)
			}}
		}
		return answer{status: 200, body: detailOK("req-1")}
	})
	var tr trace
	if _, err := f.client(t, keys).FetchCached(t.Context(), testLoginID, tr.opts(fastOpts())); err != nil {
		t.Fatal(err)
	}
	var at []time.Time
	for _, r := range f.requests() {
		if r.Endpoint == "GetAccountsDetail" {
			at = append(at, r.At)
		}
	}
	if len(at) != 2 || at[1].Sub(at[0]) < time.Second {
		t.Errorf("GetAccountsDetail at %v; want a second call at least 1 s (Retry-After) after the first", at)
	}
}
