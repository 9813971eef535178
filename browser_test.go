package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"flinkslink/flinks/flinkstest"
)

// screenshotDir receives a screenshot of each step of the browser test
// (git-ignored; look at them when a run fails).
const screenshotDir = ".screenshots"

// chromiumPath finds Debian's Chromium; .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: install Debian's chromium (apt-get install chromium); .ci/run does it")
	return ""
}

// newBrowser starts a headless Chromium with the flags this machine needs.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// shot saves a full-page screenshot of the current step.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// inConnect runs actions against the document inside the Connect iframe,
// looked up afresh since each Connect step loads a new document. The sandbox
// is same-origin here, so FromNode reaches into the frame.
//
// Right after a click the frame may still hold the previous document, and a
// query against it would wait forever; so each attempt gets a few seconds and
// the frame is looked up again.
func inConnect(ctx context.Context, actions func(frame chromedp.QueryOption) []chromedp.Action[chromedp.Void]) error {
	var err error
	for attempt := 0; attempt < 8 && ctx.Err() == nil; attempt++ {
		err = func() error {
			actx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			frames, err := chromedp.Run(actx, chromedp.Nodes(chromedp.CSS("#flinks-connect")))
			if err != nil {
				return err
			}
			return chromedp.Do(actx, actions(chromedp.FromNode(frames[0]))...)
		}()
		if err == nil {
			return nil
		}
	}
	return err
}

func TestBrowserLinksAnAccount(t *testing.T) {
	// The sandbox's clock stands still, so a scrape stays pending (Flinks
	// answers 202) until finishScrape moves it past the scrape's end: the test
	// sees every state it waits for, however slow the machine.
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{env: map[string]string{"FLINKS_POLL_INTERVAL": "500ms"}, sandboxNow: clock.Now}).base
	finishScrape := func() { clock.Advance(time.Second) } // a scrape lasts 10 s × 0.05
	ctx := newBrowser(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#flinks-connect")),
	); err != nil {
		t.Fatalf("open landing page: %v", err)
	}
	// Connect's consent page, inside the iframe.
	step := func(name string, fn func(frame chromedp.QueryOption) []chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := inConnect(ctx, fn); err != nil {
			shot(t, ctx, "failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("consent", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=accept]"), f)}
	})
	shot(t, ctx, "1-landing")
	// A REDIRECT message that does not come from the Connect frame is ignored.
	// Messages are handled in the order they were posted, so once a second
	// message reaches a listener added after the app's, the app has handled
	// the spoofed one; the Navigation API reports any navigation it started.
	evaluate[bool](t, ctx, `(() => {
		window.__navigations = [];
		navigation.addEventListener("navigate", e => window.__navigations.push(e.destination.url));
		window.addEventListener("message", e => { if (e.data === "after-spoof") window.__afterSpoof = true; });
		window.postMessage({step: "REDIRECT", url: "/connect/callback?loginId=5602459c-f6d0-4ca0-6750-08dccdcadcc0&institution=FlinksCapital&tag=x"}, "*");
		window.postMessage("after-spoof", "*");
		return true;
	})()`)
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`window.__afterSpoof === true`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the messages after the spoofed one never arrived: %v", err)
	}
	if navs := evaluate[[]string](t, ctx, `window.__navigations`); len(navs) != 0 {
		t.Fatalf("a spoofed postMessage started a navigation to %v", navs)
	}
	signInThroughConnect(t, ctx, "greatday_nomfa", "2-connect-credentials")

	// Connect redirects; the whole page lands on the link page, pending.
	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="pending"]`)),
		// A marker that a reload would erase: the summary must arrive by swaps.
		chromedp.Evaluate[chromedp.Void](`window.__noReload = true`),
	)
	if err != nil {
		shot(t, ctx, "failed-pending")
		t.Fatalf("waiting for the pending state: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(location, base+"/links/") || strings.Contains(location, "loginId") {
		t.Errorf("top window at %s, want %s/links/{id} without the LoginId", location, base)
	}
	shot(t, ctx, "3-pending")
	// The Details panel, opened while pending (browser_timeline_test.go).
	browserTimelineWhilePending(t, ctx)
	finishScrape()

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="ready"] [data-testid=summary]`))); err != nil {
		shot(t, ctx, "failed-ready")
		t.Fatalf("waiting for the summary: %v", err)
	}
	marker := evaluate[bool](t, ctx, `window.__noReload === true`)
	accounts := evaluate[int](t, ctx, `document.querySelectorAll("[data-testid=account]").length`)
	announced := evaluate[string](t, ctx, `document.getElementById("status-announcer").textContent`)
	shot(t, ctx, "4-summary")
	if !marker {
		t.Error("the page reloaded; the summary should arrive by an htmx swap")
	}
	if accounts < 3 {
		t.Errorf("summary shows %d accounts, want 3+", accounts)
	}
	if !strings.Contains(announced, "ready") {
		t.Errorf("live region announced %q, want the ready headline", announced)
	}
	// Polling ended: the ready element has no hx-get.
	if evaluate[bool](t, ctx, `document.querySelector("#link-status").hasAttribute("hx-get")`) {
		t.Error("the ready render still polls")
	}
	// The Details panel once ready, then through "Refresh data".
	browserTimelineEnded(t, ctx, base, finishScrape)
	// Keep last: it switches to French and leaves the link page.
	browserRefreshFrenchAndLinks(t, ctx, base, finishScrape)
	fmt.Fprintln(os.Stderr, "browser test screenshots in", screenshotDir)
}

// signInThroughConnect completes the sandbox's Connect inside the landing
// page's iframe as username, the way a person would: consent, Flinks Capital,
// credentials. It saves a screenshot named shotName before submitting.
func signInThroughConnect(t *testing.T, ctx context.Context, username, shotName string) {
	t.Helper()
	step := func(name string, fn func(frame chromedp.QueryOption) []chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := inConnect(ctx, fn); err != nil {
			shot(t, ctx, "failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("accept consent", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS("button[value=accept]"), f),
			chromedp.Click(chromedp.CSS("button[value=accept]"), f),
		}
	})
	step("choose Flinks Capital", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS("button[value=FlinksCapital]"), f),
			chromedp.Click(chromedp.CSS("button[value=FlinksCapital]"), f),
		}
	})
	step("credentials", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS("#username"), f),
			chromedp.SendKeys(chromedp.CSS("#username"), username, f),
			chromedp.SendKeys(chromedp.CSS("#password"), "Everyday", f),
		}
	})
	shot(t, ctx, shotName)
	step("submit credentials", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Submit(chromedp.CSS("#password"), f)}
	})
}

// grantClipboard lets the page at base read and write the clipboard, so the
// tests can check what a Copy button put there.
func grantClipboard(base string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			_, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: name == "clipboard-write"},
				Setting:    browser.PermissionSettingGranted, Origin: base,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// evaluate runs a JavaScript expression in the page and returns its value.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}
