package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browserRefreshFrenchAndLinks continues TestBrowserLinksAnAccount on a link page
// that shows its summary: "Refresh data" takes the link back to pending and then
// ready again without a reload; the header's switch turns the page French; the
// links list works with the keyboard and fits a phone; a scenario card copy
// button fills the clipboard. It leaves the browser in French on the landing page.
func browserRefreshFrenchAndLinks(t *testing.T, ctx context.Context, base string, finishScrape func()) {
	t.Helper()
	fail := func(name string, err error) {
		t.Helper()
		shot(t, ctx, "failed-"+name)
		t.Fatalf("%s: %v", name, err)
	}

	// Every state the status element takes, across swaps; and a marker a reload would erase.
	evaluate[bool](t, ctx, `(() => {
		window.__refreshMarker = true;
		window.__states = [];
		const record = () => {
			const s = document.querySelector("#link-status");
			if (s && window.__states[window.__states.length - 1] !== s.dataset.state) window.__states.push(s.dataset.state);
		};
		new MutationObserver(record).observe(document.querySelector("main"),
			{subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"]});
		return true;
	})()`)
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#link-status[data-state="ready"] [data-testid=refresh]:not([disabled])`)),
		// Pending again, the earlier summary still shown, Refresh disabled meanwhile.
		chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="pending"] [data-testid=summary]`)),
	)
	if err != nil {
		fail("refresh", err)
	}
	disabled := evaluate[bool](t, ctx, `document.querySelector("#link-status [data-testid=refresh]").disabled`)
	shot(t, ctx, "6-refresh")
	finishScrape()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="ready"] [data-testid=refresh]:not([disabled])`))); err != nil {
		fail("ready after refresh", err)
	}
	states := evaluate[[]string](t, ctx, `window.__states`)
	if !evaluate[bool](t, ctx, `window.__refreshMarker === true`) {
		t.Error("Refresh data reloaded the page; it should swap the status in place")
	}
	if !disabled {
		t.Error("Refresh data stayed enabled while the new fetch ran")
	}
	if len(states) < 2 || states[0] == "ready" || states[len(states)-1] != "ready" {
		t.Errorf("status states after Refresh data: %v, want pending ones, then ready", states)
	}

	// French, with the header's language switch (a form post: the page reloads).
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid=language-switch]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="fr"] #link-status[data-state="ready"] [data-testid=refresh]`)),
	)
	if err != nil {
		fail("switch to French", err)
	}
	headline := evaluate[string](t, ctx, `document.querySelector("[data-testid=status-headline]").textContent`)
	refreshLabel := evaluate[string](t, ctx, `document.querySelector("[data-testid=refresh]").textContent.trim()`)
	nav := evaluate[string](t, ctx, `document.querySelector("header.site nav").textContent`)
	shot(t, ctx, "7-french")
	if !strings.Contains(headline, "prêt") || refreshLabel != "Relire les données enregistrées" || !strings.Contains(nav, "Vos comptes liés") {
		t.Errorf("French page: headline %q, refresh %q, nav %q", headline, refreshLabel, nav)
	}

	// The links list: this link, ready, with its actions, reachable by keyboard.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/links"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=link-row][data-state="ready"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid=link-row] [data-testid=row-open]`)),
		chromedp.KeyEvent(kb.Tab),
	)
	if err != nil {
		fail("links list", err)
	}
	focused := evaluate[string](t, ctx, `document.activeElement.dataset.testid || document.activeElement.tagName`)
	badge := evaluate[string](t, ctx, `document.querySelector("[data-testid=row-badge]").textContent`)
	shot(t, ctx, "8-links")
	if focused != "row-refresh" {
		t.Errorf("Tab from Open went to %q, want the row's Refresh data", focused)
	}
	if badge != "Prêt" {
		t.Errorf("badge %q, want Prêt", badge)
	}
	// On a phone the rows become cards: nothing wider than the screen.
	err = chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.WaitVisible(chromedp.CSS(`[data-testid=row-delete]`)))
	if err != nil {
		fail("phone viewport", err)
	}
	overflow := evaluate[int](t, ctx, `document.documentElement.scrollWidth - window.innerWidth`)
	shot(t, ctx, "8-links-phone")
	if overflow > 0 {
		t.Errorf("the links list is %d px wider than a phone screen", overflow)
	}

	// A copy button of the scenario card puts its value on the clipboard.
	if err := chromedp.Do(ctx, chromedp.EmulateReset(), grantClipboard(base)); err != nil {
		fail("clipboard permission", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-username="test_slow"] button[data-copy]`)),
		chromedp.Click(chromedp.CSS(`[data-username="test_slow"] button[data-copy]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-username="test_slow"] button[data-copy-state]`)),
	)
	if err != nil {
		fail("copy", err)
	}
	state := evaluate[string](t, ctx, `document.querySelector('[data-username="test_slow"] button[data-copy-state]').dataset.copyState`)
	label := evaluate[string](t, ctx, `document.querySelector('[data-username="test_slow"] button[data-copy-state]').textContent`)
	clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Errorf("read the clipboard: %v", err)
	}
	if state != "copied" || label != "Copié" || clip != "test_slow" {
		t.Errorf("copy: state %q, label %q, clipboard %q; want copied, Copié, test_slow", state, label, clip)
	}
	if summaries := evaluate[[]string](t, ctx, `[...document.querySelectorAll("[data-testid=scenario-summary]")].map(e => e.textContent)`); !slices.ContainsFunc(summaries, func(s string) bool { return strings.Contains(s, "Données en attente") }) {
		t.Errorf("scenario card is not in French: %v", summaries)
	}
}
