package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"flinkslink/flinks/sandbox"
)

// TestBrowserFailedLinkExplains links a sandbox user whose bank access is
// disabled and checks, in a real browser, that the failure is explained in
// words with its FlinksCode and the next steps, and that polling ends.
func TestBrowserFailedLinkExplains(t *testing.T) {
	base := startApp(t, map[string]string{"SANDBOX_TIME_SCALE": "0.05", "FLINKS_POLL_INTERVAL": "100ms"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#flinks-connect"))); err != nil {
		t.Fatalf("open landing page: %v", err)
	}
	signInThroughConnect(t, ctx, "test_disabled_account", "failed-0-credentials")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="failed"] [data-testid=failure]`))); err != nil {
		shot(t, ctx, "failed-wait")
		t.Fatalf("waiting for the failure: %v", err)
	}
	// Open the Details panel so the screenshot shows the failed Authorize call too.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#timeline-details > summary"))); err != nil {
		t.Fatalf("open the Details panel: %v", err)
	}
	shot(t, ctx, "9-failed")

	if code := evaluate[string](t, ctx, `document.querySelector("[data-testid=failure-code]").textContent`); code != "DISABLED_LOGIN" {
		t.Errorf("failure code %q, want DISABLED_LOGIN", code)
	}
	text := evaluate[string](t, ctx, `document.querySelector("[data-testid=failure]").innerText`)
	for _, want := range []string{"disabled", "Contact your bank"} {
		if !strings.Contains(text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, text)
		}
	}
	if evaluate[bool](t, ctx, `!!document.querySelector("[data-testid=retry]")`) {
		t.Error("Try again offered for DISABLED_LOGIN, which retrying cannot fix")
	}
	if !evaluate[bool](t, ctx, `!!document.querySelector("[data-testid=link-another]")`) {
		t.Error("no way to link another account")
	}
	if evaluate[bool](t, ctx, `document.querySelector("#link-status").hasAttribute("hx-get")`) {
		t.Error("the failed render still polls")
	}
}

// heldRetry serves the standalone sandbox and holds the second cached
// Authorize of a LoginId (the retry) until release is closed, so a test can
// look at the retry screen for as long as it needs.
type heldRetry struct {
	next      http.Handler
	mu        sync.Mutex
	authorize int
	release   chan struct{}
}

func (h *heldRetry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/BankingServices/Authorize") {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if bytes.Contains(raw, []byte(`"LoginId"`)) {
			h.mu.Lock()
			h.authorize++
			n := h.authorize
			h.mu.Unlock()
			if n == 2 {
				select {
				case <-h.release:
				case <-r.Context().Done():
				}
			}
		}
	}
	h.next.ServeHTTP(w, r)
}

// TestBrowserRetryScreenSaysWhatFlinksSaid links test_service_unavailable,
// whose cached Authorize Flinks answers 401 RETRY_LATER, and checks the words
// and the progress steps while the app retries and once it gives up: it says
// what Flinks answered, ticks no session that never opened, and the steps
// never go backwards.
func TestBrowserRetryScreenSaysWhatFlinksSaid(t *testing.T) {
	sb, err := sandbox.New(sandbox.Config{TimeScale: 0.05, StatePath: filepath.Join(t.TempDir(), "sandbox.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	held := &heldRetry{next: sb, release: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(held.release) }) }
	upstream := httptest.NewServer(held)
	t.Cleanup(upstream.Close)
	t.Cleanup(release) // before upstream.Close, which waits for the held call
	base := startApp(t, externalFlinksEnv(upstream.URL, map[string]string{"FLINKS_POLL_INTERVAL": "100ms"}))
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#flinks-connect"))); err != nil {
		t.Fatalf("open landing page: %v", err)
	}
	signInThroughConnect(t, ctx, "test_service_unavailable", "retry-0-credentials")
	steps := func() string {
		return evaluate[string](t, ctx, `[...document.querySelectorAll("#link-status .steps li")].map(li => li.className.replace("step-", "")).join(",")`)
	}

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="retrying"]`))); err != nil {
		shot(t, ctx, "failed-retry-wait")
		t.Fatalf("waiting for the retry screen: %v", err)
	}
	shot(t, ctx, "retry-1-retrying")
	if got := evaluate[string](t, ctx, `document.querySelector("[data-testid=status-headline]").textContent`); got != "Flinks answered RETRY_LATER; trying again" {
		t.Errorf("retry headline %q", got)
	}
	if got := evaluate[string](t, ctx, `document.querySelector("#link-status .detail").textContent`); !strings.Contains(got, "try again on our own") || strings.Contains(got, "did not answer") {
		t.Errorf("retry detail %q", got)
	}
	// Connected through Connect, nothing else yet: no session was opened.
	if got := steps(); got != "done,current,todo,todo,todo" {
		t.Errorf("steps while retrying %s, want done,current,todo,todo,todo", got)
	}

	release()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="failed"] [data-testid=failure]`))); err != nil {
		shot(t, ctx, "failed-retry-fail-wait")
		t.Fatalf("waiting for the failure: %v", err)
	}
	shot(t, ctx, "retry-2-failed")
	// The step that was in progress is the one that failed: nothing goes backwards.
	if got := steps(); got != "done,failed,todo,todo,todo" {
		t.Errorf("steps after the failure %s, want done,failed,todo,todo,todo", got)
	}
	if got := evaluate[string](t, ctx, `document.querySelector("[data-testid=failure-code]").textContent`); got != "RETRY_LATER" {
		t.Errorf("failure code %q", got)
	}
	// The failure's sentence is said once.
	message := evaluate[string](t, ctx, `document.querySelector("[data-testid=failure] h3 + p").textContent`)
	if n := strings.Count(evaluate[string](t, ctx, `document.querySelector("#link-status").innerText`), message); message == "" || n != 1 {
		t.Errorf("the failure's sentence %q appears %d times", message, n)
	}
	// The timeline's last entry names the code once.
	chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#timeline-details > summary")))
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid=timeline-event][data-state="failed"]`))); err != nil {
		t.Fatalf("waiting for the timeline's failure: %v", err)
	}
	last := evaluate[string](t, ctx, `[...document.querySelectorAll("[data-testid=timeline-event][data-state=failed]")].pop().innerText`)
	if strings.Count(last, "RETRY_LATER") > 1 || strings.Contains(last, "Stopped: RETRY_LATER") {
		t.Errorf("timeline's failure entry repeats the code:\n%s", last)
	}
}

// TestBrowserQAReachesTimedOut follows the README's QA recipe for TIMED_OUT,
// on the sandbox's real clock: in the scenario card's QA controls, pending
// "never" and a 30 s time limit, then test_never. The link ends timed out,
// shown as this app's own code, once its 30 s from Flinks' first 202 are up.
func TestBrowserQAReachesTimedOut(t *testing.T) {
	base := startApp(t, map[string]string{"FLINKS_POLL_INTERVAL": "1s"})
	ctx := newBrowser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#flinks-connect")),
		chromedp.Click(chromedp.CSS("[data-testid=pending-never]")),
		chromedp.Click(chromedp.CSS("[data-testid=limit-30s]")),
		chromedp.Click(chromedp.CSS("[data-testid=pending-apply]")),
		chromedp.Poll[chromedp.Void](`document.querySelector("[data-testid=pending-current]").textContent.includes("Saved")`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		shot(t, ctx, "failed-qa-controls")
		t.Fatalf("set the QA controls: %v", err)
	}
	if got := evaluate[string](t, ctx, `document.querySelector("[data-testid=pending-current]").textContent`); !strings.Contains(got, "never") || !strings.Contains(got, "30 s") {
		t.Errorf("the controls say %q", got)
	}
	shot(t, ctx, "qa-controls")
	signInThroughConnect(t, ctx, "test_never", "qa-0-credentials")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="pending"]`))); err != nil {
		t.Fatalf("waiting for pending: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="timed_out"] [data-testid=failure]`))); err != nil {
		shot(t, ctx, "failed-qa-timed-out")
		t.Fatalf("waiting for TIMED_OUT: %v", err)
	}
	shot(t, ctx, "qa-timed-out")
	code := evaluate[string](t, ctx, `document.querySelector("[data-testid=failure-code]").textContent`)
	ours := evaluate[bool](t, ctx, `document.querySelector("[data-testid=failure-code]").hasAttribute("data-ours")`)
	if code != "TIMED_OUT" || !ours {
		t.Errorf("failure code %q (ours %v), want TIMED_OUT as this app's code", code, ours)
	}
	// The limit held: the fetch stopped no earlier than 30 s after the first 202.
	id := strings.TrimPrefix(evaluate[string](t, ctx, `location.pathname`), "/links/")
	var doc struct {
		Timeline struct {
			Events []struct{ At, State string } `json:"events"`
		} `json:"timeline"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/api/links/`+id+`").then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	var first, end time.Time
	for _, e := range doc.Timeline.Events {
		at, _ := time.Parse(time.RFC3339Nano, e.At)
		if e.State == "pending" && first.IsZero() {
			first = at
		}
		if e.State == "timed_out" {
			end = at
		}
	}
	if first.IsZero() || end.Sub(first) < 30*time.Second {
		t.Errorf("timed out %v after the first 202, want at least the 30 s limit", end.Sub(first))
	}
	t.Logf("TIMED_OUT %v after the first 202 (limit 30 s)", end.Sub(first).Round(time.Millisecond))
}
