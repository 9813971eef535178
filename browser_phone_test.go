package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"flinkslink/flinks/flinkstest"
)

// layoutProblems lists, on the current page, what a phone user would see
// wrong: a page wider than the screen (naming the elements that stick out),
// and amounts cut off, off screen, or clipped by a box that scrolls.
const layoutProblems = `(() => {
	const w = document.documentElement.clientWidth, problems = [];
	if (document.documentElement.scrollWidth > w) {
		const wide = [...document.querySelectorAll("body *")]
			.filter(el => el.getBoundingClientRect().right > w + 0.5 && ![...el.children].some(c => c.getBoundingClientRect().right > w + 0.5))
			.slice(0, 5).map(el => el.tagName.toLowerCase() + "." + [...el.classList].join(".") + " (" + Math.round(el.getBoundingClientRect().right) + "px)");
		problems.push("the page is " + document.documentElement.scrollWidth + "px wide at " + w + "px: " + wide.join(", "));
	}
	for (const el of document.querySelectorAll(".amount")) {
		const text = el.textContent.trim(), r = el.getBoundingClientRect();
		if (!text || r.width === 0) continue;
		if (r.left < -0.5 || r.right > w + 0.5) problems.push("amount off screen: " + text);
		if (el.scrollWidth > el.clientWidth + 1) problems.push("amount cut: " + text);
		for (let p = el.parentElement; p; p = p.parentElement) {
			if (getComputedStyle(p).overflowX === "visible") continue;
			const pr = p.getBoundingClientRect();
			if (r.left < pr.left - 0.5 || r.right > pr.right + 0.5) problems.push("amount hidden in a scrolling box (" + p.className + "): " + text);
		}
	}
	return problems;
})()`

// TestBrowserPhoneLayout opens every kind of page at 390 × 844 (a phone),
// in English and French: the landing page, a failed link, a pending one, the
// summary and the links list. None may scroll sideways, and every amount must
// be whole on screen. It saves the screenshots the README shows.
func TestBrowserPhoneLayout(t *testing.T) {
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{env: map[string]string{"FLINKS_POLL_INTERVAL": "300ms"}, sandboxNow: clock.Now}).base
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	// The viewer is in Toronto (UTC−5 in winter, −4 in summer): times show there.
	toronto, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: toronto.String()}); err != nil {
		t.Fatal(err)
	}
	// localTime checks that a <time data-local> shows its instant in Toronto's time.
	localTime := func(name, selector, layout string) {
		t.Helper()
		type shown struct{ Datetime, Text, Title string }
		got := evaluate[shown](t, ctx, `(() => { const el = document.querySelector(`+jsString(selector)+`);
			return el ? {datetime: el.getAttribute("datetime"), text: el.textContent.trim(), title: el.title} : {}; })()`)
		at, err := time.Parse(time.RFC3339Nano, got.Datetime)
		if err != nil {
			t.Errorf("%s: no time (%v)", name, err)
			return
		}
		want := at.In(toronto).Format(layout)
		if !strings.Contains(got.Text, want) || strings.Contains(got.Text, "UTC ") {
			t.Errorf("%s shows %q (tooltip %q), want Toronto's %s", name, got.Text, got.Title, want)
		}
		if !strings.Contains(got.Title, "Eastern") && !strings.Contains(got.Title, "heure normale de l’Est") && !strings.Contains(got.Title, "UTC−") {
			t.Errorf("%s tooltip %q does not name the zone", name, got.Title)
		}
	}
	check := func(name string) {
		t.Helper()
		shot(t, ctx, "phone-"+name)
		for _, p := range evaluate[[]string](t, ctx, layoutProblems) {
			t.Errorf("%s at 390 px: %s", name, p)
		}
	}
	open := func(path, wait string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(wait))); err != nil {
			shot(t, ctx, "failed-phone-"+strings.Trim(path, "/"))
			t.Fatalf("open %s: %v", path, err)
		}
	}
	waitState := func(state string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="`+state+`"]`))); err != nil {
			shot(t, ctx, "failed-phone-"+state)
			t.Fatalf("waiting for %s: %v", state, err)
		}
	}

	open("/", "#flinks-connect")
	check("landing")
	signInThroughConnect(t, ctx, "test_disabled_account", "phone-credentials")
	waitState("failed")
	check("failed")

	open("/", "#flinks-connect")
	signInThroughConnect(t, ctx, "greatday_nomfa", "phone-credentials")
	waitState("pending")
	check("pending")
	// Focus stays on the focused control through the status element's swaps,
	// and moves to the new headline when that control is gone.
	evaluate[bool](t, ctx, `(() => {
		window.__swaps = 0;
		new MutationObserver(() => window.__swaps++).observe(document.querySelector("main"), {childList: true});
		document.querySelector("[data-testid=stop]").focus();
		return true;
	})()`)
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`window.__swaps >= 2`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for status swaps: %v", err)
	}
	if got := evaluate[string](t, ctx, `document.activeElement.dataset.testid || document.activeElement.tagName`); got != "stop" {
		t.Errorf("after the status swaps focus is on %q, want still on Stop", got)
	}
	clock.Advance(time.Second) // the scrape (10 s × the sandbox's scale) ends
	waitState("ready")
	if got := evaluate[string](t, ctx, `document.activeElement.dataset.testid || document.activeElement.tagName`); got != "status-headline" {
		t.Errorf("once ready (Stop gone) focus is on %q, want the new headline", got)
	}
	check("summary")
	localTime("last refreshed", "[data-testid=summary-last-refresh] time", "15:04")
	if got := evaluate[string](t, ctx, `document.querySelector("[data-testid=summary-last-refresh] time").textContent`); !strings.Contains(got, "EST") && !strings.Contains(got, "EDT") {
		t.Errorf("last refreshed %q does not name the zone", got)
	}
	chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#timeline-details > summary")))
	localTime("timeline entry", "[data-testid=entry-time]", "15:04:05.000")
	if got := evaluate[string](t, ctx, `document.querySelector("[data-testid=timeline-zone]").textContent`); !strings.Contains(got, "America/Toronto") {
		t.Errorf("timeline says %q about its times, want the viewer's zone", got)
	}
	open("/links", "[data-testid=link-row]")
	check("links")

	// French words are longer.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("[data-testid=language-switch]")), chromedp.WaitVisible(chromedp.CSS(`html[lang=fr] [data-testid=link-row]`))); err != nil {
		t.Fatalf("switch to French: %v", err)
	}
	check("links-fr")
	ready := evaluate[string](t, ctx, `[...document.querySelectorAll("[data-testid=link-row][data-state=ready] [data-testid=row-institution]")][0].getAttribute("href")`)
	open(ready, `#link-status[data-state="ready"]`)
	check("summary-fr")
	// Every account's type and category is in French.
	metas := evaluate[[]string](t, ctx, `[...document.querySelectorAll("[data-testid=account] .meta")].map(m => m.textContent.replace(/\s+/g, " ").trim())`)
	if len(metas) < 3 {
		t.Errorf("French summary shows %d accounts", len(metas))
	}
	for _, m := range metas {
		for _, english := range []string{"Chequing", "Savings", "Credit card", "Line of credit", "Loan", "Mortgage", "Operations", "Credits", "Products", "Others", "Day-to-day"} {
			if strings.Contains(m, english) {
				t.Errorf("French account line %q keeps the English %q", m, english)
			}
		}
	}
	localTime("French last refreshed", "[data-testid=summary-last-refresh] time", "15:04")
	open("/", "#flinks-connect")
	check("landing-fr")
	if err := chromedp.Do(ctx, chromedp.EmulateReset()); err != nil {
		t.Fatal(err)
	}
}
