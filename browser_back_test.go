package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"flinkslink/flinks/flinkstest"
)

// TestBrowserBackAfterSummary presses the browser's Back button once the
// summary is on screen: it must land on a working page, the landing page
// loaded afresh with a new Connect session at its first step, never the
// finished Connect frame nor a form the browser asks to post again.
func TestBrowserBackAfterSummary(t *testing.T) {
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{env: map[string]string{"FLINKS_POLL_INTERVAL": "300ms"}, sandboxNow: clock.Now}).base
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#flinks-connect"))); err != nil {
		t.Fatalf("open landing page: %v", err)
	}
	firstFrame := evaluate[string](t, ctx, `document.getElementById("flinks-connect").src`)
	signInThroughConnect(t, ctx, "greatday_nomfa", "back-0-credentials")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="pending"]`))); err != nil {
		t.Fatalf("waiting for pending: %v", err)
	}
	clock.Advance(time.Second)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="ready"]`))); err != nil {
		t.Fatalf("waiting for the summary: %v", err)
	}
	linkPage := evaluate[string](t, ctx, `location.href`)

	if err := chromedp.Do(ctx, chromedp.NavigateBack()); err != nil {
		t.Fatalf("Back: %v", err)
	}
	// The landing page, loaded by a navigation of its own (not restored from
	// history), showing Connect's consent step in a frame with a new token.
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`location.pathname === "/" && performance.getEntriesByType("navigation")[0].type === "navigate" && document.readyState === "complete"`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		shot(t, ctx, "failed-back")
		t.Fatalf("after Back the page is %s (was %s): %v", evaluate[string](t, ctx, `location.href`), linkPage, err)
	}
	if err := inConnect(ctx, func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=accept]"), f)}
	}); err != nil {
		shot(t, ctx, "failed-back-frame")
		t.Fatalf("after Back, Connect is not at its first step: %v", err)
	}
	shot(t, ctx, "back-1-landing")
	frame := evaluate[string](t, ctx, `document.getElementById("flinks-connect").src`)
	if frame == firstFrame || !strings.Contains(frame, "authorizeToken=") {
		t.Errorf("after Back the Connect frame reuses the used session: %s", frame)
	}
	// Forward goes back to the summary.
	if err := chromedp.Do(ctx, chromedp.NavigateForward(), chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="ready"]`))); err != nil {
		t.Errorf("Forward after Back: %v", err)
	}
}
