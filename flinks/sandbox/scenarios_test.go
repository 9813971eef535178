package sandbox_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks/sandbox"
)

func TestScenarioTable(t *testing.T) {
	t.Parallel()
	want := []string{"Greatday", "greatday_nomfa", "test_ready", "test_slow", "test_dispatched", "test_disabled_account",
		"test_service_unavailable", "test_never", "test_flaky", "test_expired", "test_authorize_pending", "test_question_not_found", "test_refresh_mfa", "test_no_transactions"}
	got := sandbox.Scenarios()
	if len(got) != len(want) {
		t.Fatalf("got %d scenarios, want %d", len(got), len(want))
	}
	for i, s := range got {
		if s.Username != want[i] || s.Password != "Everyday" || s.Summary == "" {
			t.Errorf("scenario %d: got %+v, want %s / Everyday with a summary", i, s, want[i])
		}
		if s.MFA != (s.Username == "Greatday") {
			t.Errorf("%s: MFA %v", s.Username, s.MFA)
		}
	}
	if a := got[0].MFAAnswers; a["What city were you born in?"] != "Montreal" || a["What is the best country on earth?"] != "Canada" ||
		a["What shape do people like most?"] != "Triangle" || len(a) != 6 {
		t.Errorf("Greatday answers: got %v", a)
	}
	if got[7].Pending != sandbox.Never || got[1].Pending != 10*time.Second || got[2].Pending != 0 || got[3].Pending != 60*time.Second {
		t.Errorf("pending times: got %v %v %v %v", got[7].Pending, got[1].Pending, got[2].Pending, got[3].Pending)
	}
	for _, s := range got[5:7] {
		if !strings.Contains(s.Summary, "Connect") {
			t.Errorf("%s: the summary must say how Connect behaves: %q", s.Username, s.Summary)
		}
	}
	got[0].MFAAnswers["What city were you born in?"] = "Paris"
	got[1].Username = "changed"
	if again := sandbox.Scenarios(); again[0].MFAAnswers["What city were you born in?"] != "Montreal" || again[1].Username != "greatday_nomfa" {
		t.Errorf("Scenarios returned shared state")
	}
}

func TestScenarioReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	rid := h.cached(h.live("TEST_READY"))
	r := h.detail(rid, nil)
	if r.status != 200 {
		t.Fatalf("first data call: got %d %s, want 200", r.status, r.raw)
	}
	checkDetail(t, r.body, t0, 90)
}

func TestScenarioSlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	rid := h.cached(h.live("test_slow"))
	opts := map[string]any{"DaysOfTransactions": "Days365"}
	wantPending(t, h.detail(rid, opts), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(59 * time.Second)
	wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(time.Second)
	r := h.poll(rid)
	if r.status != 200 {
		t.Fatalf("after 60 s: got %d", r.status)
	}
	checkDetail(t, r.body, t0.Add(time.Minute), 365)
	accounts := arr(t, r.body, "Accounts")
	total := 0
	for i := range accounts {
		total += len(arr(t, r.body, "Accounts", i, "Transactions"))
	}
	if len(accounts) < 6 || total < 3000 {
		t.Errorf("got %d accounts and %d transactions, want 6+ accounts and a dense year", len(accounts), total)
	}
}

func TestScenarioDispatched(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("test_dispatched")
	rid := h.cached(id)
	wantPending(t, h.detail(rid, nil), "OPERATION_DISPATCHED", rid, "GetAccountsDetail")
	h.clock.Advance(9 * time.Second)
	wantPending(t, h.poll(rid), "OPERATION_DISPATCHED", rid, "GetAccountsDetail")
	h.clock.Advance(time.Second)
	if r := h.poll(rid); r.status != 200 {
		t.Fatalf("after 10 s: got %d %s", r.status, r.raw)
	}
	// Every data call is long-running for this user, not only the first.
	h.clock.Advance(time.Minute)
	again := h.cached(id)
	wantPending(t, h.detail(again, nil), "OPERATION_DISPATCHED", again, "GetAccountsDetail")
}

func TestScenarioNever(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("test_never")
	rid := h.cached(id)
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	for range 3 {
		h.clock.Advance(time.Hour)
		wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	}
	// The card is not locked forever.
	if r := h.do("DELETE", h.api+"/DeleteCard/"+id, map[string]string{"x-api-key": apiKey}, nil); r.status != 200 {
		t.Errorf("DeleteCard: got %d %s", r.status, r.raw)
	}
}

func TestScenarioFlaky(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("test_flaky")
	rid := h.cached(id)
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")

	wantError(t, h.poll(rid), 500, "AGGREGATION_ERROR")
	for _, status := range []int{503, 502} {
		r := h.poll(rid)
		if r.status != status || r.body != nil || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("poll: got %d %q %q, want %d with an HTML body", r.status, r.header.Get("Content-Type"), r.raw, status)
		}
		if json.Valid(r.raw) {
			t.Errorf("%d body is JSON, want HTML", status)
		}
	}
	wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(10 * time.Second)
	if r := h.poll(rid); r.status != 200 {
		t.Fatalf("after the failures: got %d", r.status)
	}
	// Per RequestId: a new session's poller fails three times again.
	h.clock.Advance(time.Minute)
	next := h.cached(id)
	h.detail(next, nil)
	wantError(t, h.poll(next), 500, "AGGREGATION_ERROR")
}

func TestScenarioExpired(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.live("test_expired")
	rid := h.cached(id)
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	for range 3 {
		h.clock.Advance(10 * time.Second)
		wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	}
	h.clock.Advance(10 * time.Second)
	wantError(t, h.poll(rid), 400, "SESSION_NONEXISTENT")
	wantError(t, h.poll(rid), 400, "SESSION_NONEXISTENT")
	wantError(t, h.detail(rid, nil), 400, "SESSION_NONEXISTENT")

	// A fresh cached Authorize works: pending while the scrape runs, then ready.
	next := h.cached(id)
	wantPending(t, h.detail(next, nil), "OPERATION_PENDING", next, "GetAccountsDetail")
	for range 4 {
		wantPending(t, h.poll(next), "OPERATION_PENDING", next, "GetAccountsDetail")
	}
	h.clock.Advance(20 * time.Second)
	if r := h.poll(next); r.status != 200 {
		t.Fatalf("second RequestId after the scrape: got %d %s", r.status, r.raw)
	}
}

func TestScenarioNoTransactions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	id := h.ready("test_no_transactions", 10*time.Second)
	r := h.detail(h.cached(id), map[string]any{"DaysOfTransactions": "Days365"})
	if r.status != 200 {
		t.Fatalf("got %d", r.status)
	}
	accounts := arr(t, r.body, "Accounts")
	if len(accounts) == 0 {
		t.Fatalf("no accounts")
	}
	for i := range accounts {
		if tx := arr(t, r.body, "Accounts", i, "Transactions"); len(tx) != 0 {
			t.Errorf("account %d: got %d transactions, want []", i, len(tx))
		}
	}
	if !strings.Contains(string(r.raw), `"Transactions":[]`) {
		t.Errorf("Transactions must be an empty array, not null")
	}
}

func TestSetPendingOverride(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	zero := time.Duration(0)
	h.srv.SetPendingOverride(&zero)
	if r := h.detail(h.cached(h.live("greatday_nomfa")), nil); r.status != 200 {
		t.Errorf("override 0: got %d, want 200 at once", r.status)
	}
	if r := h.detail(h.cached(h.live("test_never")), nil); r.status != 200 {
		t.Errorf("override 0 on test_never: got %d, want 200", r.status)
	}

	five := 5 * time.Minute
	h.srv.SetPendingOverride(&five)
	rid := h.cached(h.live("test_ready"))
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(4 * time.Minute)
	wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")

	h.srv.SetPendingOverride(nil)
	h.clock.Advance(time.Minute)
	if r := h.poll(rid); r.status != 200 {
		t.Errorf("scrape started under the override: got %d at 5 min", r.status)
	}
	rid = h.cached(h.live("greatday_nomfa"))
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(10 * time.Second)
	if r := h.poll(rid); r.status != 200 {
		t.Errorf("defaults restored: got %d at 10 s", r.status)
	}
}

// TestSetPendingOverrideFor keeps one Connect tag's choice to its own
// connections: another tag gets the scenario's timing, or the server-wide one.
func TestSetPendingOverrideFor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{})
	liveTagged := func(username, tag string) string {
		t.Helper()
		r := h.authorize(map[string]any{"Institution": "FlinksCapital", "Username": username, "Password": "Everyday",
			"MostRecentCached": false, "Save": true, "Tag": tag})
		if r.status != 200 {
			t.Fatalf("live Authorize: %d %s", r.status, r.raw)
		}
		return str(t, r.body, "Login", "Id")
	}
	never := time.Duration(-1)
	h.srv.SetPendingOverrideFor("tester-a", &never)
	// Tester A's test_ready never becomes ready; tester B's is ready at once.
	rid := h.cached(liveTagged("test_ready", "tester-a"))
	wantPending(t, h.detail(rid, nil), "OPERATION_PENDING", rid, "GetAccountsDetail")
	h.clock.Advance(time.Hour)
	wantPending(t, h.poll(rid), "OPERATION_PENDING", rid, "GetAccountsDetail")
	if r := h.detail(h.cached(liveTagged("test_ready", "tester-b")), nil); r.status != 200 {
		t.Errorf("another tag's test_ready: got %d, want 200 at once", r.status)
	}
	// Removed: the scenario's own timing again.
	h.srv.SetPendingOverrideFor("tester-a", nil)
	if r := h.detail(h.cached(liveTagged("test_ready", "tester-a")), nil); r.status != 200 {
		t.Errorf("after removing the override: got %d, want 200", r.status)
	}
}

// TestRealClockScaled runs on the wall clock with a small TimeScale, the way
// the app's QA mode does.
func TestRealClockScaled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sandbox.Config{TimeScale: 0.05, Now: time.Now}) // 10 s -> 500 ms: a loaded machine still sees the 202
	rid := h.cached(h.live("greatday_nomfa"))
	r := h.detail(rid, nil)
	if r.status != 202 {
		t.Fatalf("first call: got %d, want 202", r.status)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.status == 202 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		r = h.poll(rid)
	}
	if r.status != 200 {
		t.Fatalf("poll: got %d %s, want 200 within the scaled 10 s", r.status, r.raw)
	}
}
