package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browserTimelineWhilePending continues TestBrowserLinksAnAccount on a pending
// link page: the Details panel opens from the keyboard, lists the Flinks calls
// made so far, and it and an opened response body stay open while the
// timeline and the status element keep polling. It returns once the timeline
// has been swapped several times, still watching (see browserTimelineEnded).
func browserTimelineWhilePending(t *testing.T, ctx context.Context) {
	t.Helper()
	fail := func(name string, err error) {
		t.Helper()
		shot(t, ctx, "failed-"+name)
		t.Fatalf("%s: %v", name, err)
	}
	err := chromedp.Do(ctx,
		// The panel is a <details>: Enter on its focused summary opens it.
		chromedp.Focus(chromedp.CSS(`[data-testid=timeline-summary]`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`#timeline-details[open] [data-testid=timeline-call] [data-testid=call-endpoint]`)),
		// Open the first response body too.
		chromedp.Click(chromedp.CSS(`#timeline-entries [data-testid=call-body] > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline-entries [data-testid=call-body][open] [data-testid=call-body-text]`)),
	)
	if err != nil {
		fail("open the Details panel", err)
	}
	// From now on, record each swap of the timeline's list: the status at that
	// moment, and whether the panel and the opened body are still open.
	evaluate[bool](t, ctx, `(() => {
		const body = document.querySelector("#timeline-entries [data-testid=call-body][open]");
		window.__tl = {swaps: []};
		new MutationObserver(() => {
			const d = document.getElementById("timeline-details");
			window.__tl.swaps.push({
				state: document.getElementById("link-status").dataset.state,
				open: !!(d && d.open),
				bodyOpen: body.isConnected && body.open,
			});
		}).observe(document.getElementById("timeline-entries"), {childList: true});
		return true;
	})()`)
	pending := evaluate[string](t, ctx, `document.getElementById("link-status").dataset.state`)
	calls := evaluate[int](t, ctx, `document.querySelectorAll("#timeline-details[open] [data-testid=timeline-call]").length`)
	endpoint := evaluate[string](t, ctx, `document.querySelector("[data-testid=timeline-call] [data-testid=call-endpoint]").textContent`)
	if pending == "ready" || calls < 1 || endpoint == "" {
		t.Errorf("Details panel opened in state %q with %d call rows (first endpoint %q); want a pending link with calls", pending, calls, endpoint)
	}
	// Wait for the tail's next swap, still pending, for the screenshot. The
	// scrape ends only when the caller says so, so every swap until then
	// happens while pending.
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`window.__tl.swaps.length >= 1`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		fail("first timeline poll", err)
	}
	shot(t, ctx, "5-timeline")
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`window.__tl.swaps.length >= 3`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		fail("timeline polls", err)
	}
	// Flinks' 202s are one entry that counts them, updated in place as
	// answers come (the sandbox answers 202 until finishScrape), not one
	// entry per poll.
	groupID := evaluate[string](t, ctx, `document.querySelector("[data-testid=timeline-polls]")?.id || ""`)
	const count = `+([...document.querySelectorAll("[data-testid=timeline-polls]")].pop()?.dataset.count || 0)`
	before := evaluate[int](t, ctx, count)
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](count+` > `+strconv.Itoa(before), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		fail("poll group grows", err)
	}
	groups := evaluate[int](t, ctx, `document.querySelectorAll("[data-testid=timeline-polls]").length`)
	separate := evaluate[int](t, ctx, `[...document.querySelectorAll("[data-testid=timeline-call] [data-testid=call-status]")].filter(s => s.textContent.trim() === "202").length`)
	sameID := evaluate[bool](t, ctx, `!!document.getElementById(`+jsString(groupID)+`)`)
	if groupID == "" || groups != 1 || separate != 0 || !sameID {
		t.Errorf("while pending: %d poll groups (first %q, still there: %v), %d separate 202 entries; want one group, updated in place", groups, groupID, sameID, separate)
	}
}

// browserTimelineEnded checks, once the link is ready, that the panel stayed
// open through every swap, that its polling ended, that Copy puts a masked
// body on the clipboard, and that "Refresh data" (which swaps the status
// element without a reload) brings the new fetch's entries into the same,
// still open, panel. finishScrape ends the sandbox's scrape the new fetch waits on.
func browserTimelineEnded(t *testing.T, ctx context.Context, base string, finishScrape func()) {
	t.Helper()
	fail := func(name string, err error) {
		t.Helper()
		shot(t, ctx, "failed-"+name)
		t.Fatalf("%s: %v", name, err)
	}
	type swap struct {
		State    string `json:"state"`
		Open     bool   `json:"open"`
		BodyOpen bool   `json:"bodyOpen"`
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#timeline-details[open] [data-testid=timeline-end]`))); err != nil {
		fail("timeline end", err)
	}
	swaps := evaluate[[]swap](t, ctx, `window.__tl.swaps`)
	pendingSwaps := 0
	for _, s := range swaps {
		if !s.Open || !s.BodyOpen {
			t.Errorf("after a swap (status %s) the panel open=%v, the response body open=%v; want both open", s.State, s.Open, s.BodyOpen)
		}
		if s.State != "ready" {
			pendingSwaps++
		}
	}
	// (The swap that brings the end may come before or after the status
	// element's own swap to ready: the ready event is checked below.)
	if pendingSwaps < 3 {
		t.Errorf("timeline swapped %d times (%d while pending): %+v; want 3+ while pending", len(swaps), pendingSwaps, swaps)
	}
	if !evaluate[bool](t, ctx, `document.querySelector("#timeline-entries [data-testid=timeline-event][data-state=ready]") !== null`) {
		t.Error("the ready state change is not in the timeline")
	}
	// Polling ended: nothing in the panel polls, and the list stays as it is.
	if evaluate[bool](t, ctx, `document.querySelector("#timeline-details [hx-get], #timeline-details [hx-trigger]") !== null`) {
		t.Error("the ended timeline still carries hx-* attributes")
	}

	// Copy: the body's text, pretty JSON with masked values, on the clipboard.
	if err := chromedp.Do(ctx, grantClipboard(base)); err != nil {
		fail("clipboard permission", err)
	}
	// The Authorize answer: its body names the Login, masked.
	const authCall = `[...document.querySelectorAll("#timeline-entries [data-testid=timeline-call]")].find(li => li.querySelector("[data-testid=call-endpoint]").textContent === "Authorize" && li.querySelector("[data-testid=call-copy]"))`
	err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`(() => { const li = `+authCall+`; li.dataset.copyTest = "1"; li.querySelector("[data-testid=call-body]").open = true; })()`),
		chromedp.Click(chromedp.CSS(`[data-copy-test] button[data-testid=call-copy]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-copy-test] button[data-testid=call-copy][data-copy-state]`)),
	)
	if err != nil {
		fail("copy a body", err)
	}
	copyState := evaluate[string](t, ctx, `document.querySelector("[data-copy-test] button[data-copy-state]").dataset.copyState`)
	shown := evaluate[string](t, ctx, `document.querySelector("[data-copy-test] [data-testid=call-body-text]").textContent`)
	clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Errorf("read the clipboard: %v", err)
	}
	var body map[string]any
	if copyState != "copied" || clip != shown || json.Unmarshal([]byte(clip), &body) != nil || !strings.Contains(clip, "\n  ") || !strings.Contains(clip, "••••") {
		t.Errorf("Copy: state %q; clipboard %.200q; want the shown body (pretty, masked JSON)", copyState, clip)
	}
	if login, _ := body["Login"].(map[string]any); login != nil && login["Id"] != "••••" {
		t.Errorf("copied body's Login.Id %v, want masked", login["Id"])
	}

	// "Refresh data" swaps the status in place: the ended timeline resumes, and
	// the new fetch's entries arrive in the panel, which stays open.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#link-status[data-state="ready"] [data-testid=refresh]:not([disabled])`)),
		chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="pending"]`)),
	)
	if err != nil {
		fail("pending after Refresh data", err)
	}
	finishScrape()
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#timeline-details[open] [data-testid=timeline-fetch][data-fetch="2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline-details[open] [data-testid=timeline-call][data-fetch="2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="ready"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline-details[open] [data-testid=timeline-event][data-state=ready][data-fetch="2"] ~ [data-testid=timeline-end]`)),
	)
	if err != nil {
		fail("timeline after Refresh data", err)
	}
	if n := evaluate[int](t, ctx, `new Set([...document.querySelectorAll("#timeline-entries > li[id]")].map(li => li.id)).size - document.querySelectorAll("#timeline-entries > li[id]").length`); n != 0 {
		t.Errorf("the timeline repeats %d entries after resuming", -n)
	}
}
