package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
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
