package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"flinkslink/flinks/flinkstest"
)

// TestBrowserStopThenDelete deletes a link while its fetch is still running,
// the way its owner would: Stop on the links list (the row comes back stopped,
// offering Delete), then Delete and its confirmation. While the sandbox still
// scrapes the card (Flinks' own work does not stop with ours), DeleteCard
// answers CARD_IN_USE and the page says so, keeping the link; once the scrape
// is over, Delete works and the link's page says it was deleted.
func TestBrowserStopThenDelete(t *testing.T) {
	clock := flinkstest.NewClock(time.Now()) // held: the scrape stays pending
	base := launchApp(t, appOptions{env: map[string]string{"FLINKS_POLL_INTERVAL": "300ms"}, sandboxNow: clock.Now}).base
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#flinks-connect"))); err != nil {
		t.Fatalf("open landing page: %v", err)
	}
	signInThroughConnect(t, ctx, "greatday_nomfa", "stop-0-credentials")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="pending"]`))); err != nil {
		t.Fatalf("waiting for pending: %v", err)
	}
	linkPage := evaluate[string](t, ctx, `location.pathname`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/links"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=link-row][data-state=pending] [data-testid=row-stop]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=row-stop]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=link-row][data-state=failed] a[data-testid=row-delete]`)),
	)
	if err != nil {
		shot(t, ctx, "failed-stop")
		t.Fatalf("Stop on the list: %v", err)
	}
	shot(t, ctx, "stop-1-stopped")
	if got := evaluate[string](t, ctx, `document.querySelector("[data-testid=link-row] [data-testid=row-badge]").textContent`); got != "Failed" {
		t.Errorf("stopped row's badge %q", got)
	}
	deleteIt := func(wait string) error {
		return chromedp.Do(ctx,
			chromedp.Navigate(base+"/links"),
			chromedp.WaitVisible(chromedp.CSS(`a[data-testid=row-delete]`)),
			chromedp.Click(chromedp.CSS(`a[data-testid=row-delete]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-delete]:not([disabled])`)),
			chromedp.Click(chromedp.CSS(`[data-testid=confirm-delete]`)),
			chromedp.WaitVisible(chromedp.CSS(wait)),
		)
	}
	if err := deleteIt(`[data-testid=error-message]`); err != nil {
		shot(t, ctx, "failed-delete-in-use")
		t.Fatalf("Delete while Flinks still scrapes: %v", err)
	}
	if got := evaluate[string](t, ctx, `document.querySelector("main").innerText`); !strings.Contains(got, "CARD_IN_USE") || !strings.Contains(got, "Nothing was deleted") {
		t.Errorf("Delete while Flinks still works on the card says:\n%s", got)
	}
	clock.Advance(time.Second) // the sandbox's scrape ends
	if err := deleteIt(`[data-testid=notice]`); err != nil {
		shot(t, ctx, "failed-delete")
		t.Fatalf("Delete after Stop: %v", err)
	}
	if n := evaluate[int](t, ctx, `document.querySelectorAll("[data-testid=link-row]").length`); n != 0 {
		t.Errorf("%d rows left after deleting the only link", n)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+linkPage), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if got := evaluate[string](t, ctx, `document.querySelector("h1").textContent`); !strings.Contains(got, "deleted") {
		t.Errorf("the deleted link's page says %q", got)
	}
}
