package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"flinkslink/flinks/flinkstest"
)

// Connect's life on the landing page, in a real browser: progress in words
// (never a raw step name), plain states with a way on when the person
// refuses consent or the bank's retry cap is hit, and a new authorize token
// when the old one is no longer valid.
func TestBrowserConnectLifecycle(t *testing.T) {
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{sandboxNow: clock.Now}).base
	ctx := newBrowser(t)
	step := func(name string, fn func(frame chromedp.QueryOption) []chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := inConnect(ctx, fn); err != nil {
			shot(t, ctx, "failed-connect-"+name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	wait := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot(t, ctx, "failed-connect-"+name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	token := func() string {
		u, err := url.Parse(evaluate[string](t, ctx, `document.getElementById("flinks-connect").src`))
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("authorizeToken")
	}
	wait("landing", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#flinks-connect")))
	step("first consent", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=deny]"), f)}
	})
	// Connect's first event may come before the page listens (a loaded
	// machine): open Connect again, now that it does.
	evaluate[bool](t, ctx, `(() => { const f = document.getElementById("flinks-connect"); f.src = f.src; return true; })()`)
	step("consent", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=deny]"), f)}
	})
	wait("consent words", chromedp.Poll[chromedp.Void](`document.getElementById("connect-events").textContent !== ""`, chromedp.WithPollingTimeout(10*time.Second)))
	if got := evaluate[string](t, ctx, `document.getElementById("connect-events").textContent`); got != "Review what you agree to share." {
		t.Errorf("under the frame: %q, want the consent step in words", got)
	}

	// Consent refused: a plain state, and Start again opens a fresh Connect.
	first := token()
	step("deny", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("button[value=deny]"), f)}
	})
	wait("denied state", chromedp.WaitVisible(chromedp.CSS(`[data-connect-state=denied]`)))
	shot(t, ctx, "connect-denied")
	if focused := evaluate[string](t, ctx, `document.activeElement.closest("[data-connect-state]")?.dataset.connectState || ""`); focused != "denied" {
		t.Errorf("focus went to %q, want the denied state's heading", focused)
	}
	wait("start again", chromedp.Click(chromedp.CSS(`[data-testid=connect-restart-denied]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`#connect-state`)))
	step("consent again", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=accept]"), f)}
	})
	if second := token(); second == "" || second == first {
		t.Errorf("Start again kept the authorize token %q (was %q); want a new one", second, first)
	}

	// The token expires (an hour on the sandbox's clock): the frame, opened
	// again with it, says TOKEN_INVALID and the page replaces it at once.
	expired := token()
	clock.Advance(time.Hour)
	evaluate[bool](t, ctx, `(() => { const f = document.getElementById("flinks-connect"); f.src = f.src; return true; })()`)
	wait("token replaced", chromedp.Poll[chromedp.Void](`document.getElementById("flinks-connect").dataset.reloads === "2"`, chromedp.WithPollingTimeout(20*time.Second)))
	step("consent after TOKEN_INVALID", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=accept]"), f)}
	})
	if fresh := token(); fresh == expired {
		t.Error("after TOKEN_INVALID the frame still has the expired token")
	}
	if evaluate[bool](t, ctx, `!document.getElementById("connect-state").hidden`) {
		t.Error("a state panel shows after the token was replaced")
	}

	// Three refused passwords: Connect stops (maximumRetry=3) and the page says so.
	step("accept", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("button[value=accept]"), f)}
	})
	// Each Connect step is a new page: focus lands on it, not on its body.
	step("bank page", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=FlinksCapital]"), f)}
	})
	if got := evaluate[string](t, ctx, `(() => { const d = document.getElementById("flinks-connect").contentDocument; return d.hasFocus() ? d.activeElement.tagName : "not focused"; })()`); got == "BODY" || got == "not focused" {
		t.Errorf("after a Connect step the frame's focus is %s, want the step's field or heading", got)
	}
	step("bank", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=FlinksCapital]"), f), chromedp.Click(chromedp.CSS("button[value=FlinksCapital]"), f)}
	})
	for i := range 3 {
		step("wrong password", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
			return []chromedp.Action[chromedp.Void]{
				chromedp.WaitVisible(chromedp.CSS("#password"), f),
				chromedp.SetValue(chromedp.CSS("#username"), "greatday_nomfa", f),
				chromedp.SetValue(chromedp.CSS("#password"), "wrong-"+string(rune('a'+i)), f),
				chromedp.Submit(chromedp.CSS("#password"), f),
			}
		})
		if i < 2 {
			wait("retry words", chromedp.Poll[chromedp.Void](`document.getElementById("connect-events").textContent.includes("did not accept")`, chromedp.WithPollingTimeout(10*time.Second)))
		}
	}
	wait("retry cap state", chromedp.WaitVisible(chromedp.CSS(`[data-connect-state=maxretry]`)))
	shot(t, ctx, "connect-maxretry")
	if evaluate[bool](t, ctx, `!document.getElementById("flinks-connect").hidden`) {
		t.Error("the spent Connect frame still shows beside the retry-cap state")
	}
	if words := evaluate[string](t, ctx, `document.body.innerText`); strings.Contains(words, "COMPONENT_") || strings.Contains(words, "MAXIMUM_RETRY") {
		t.Errorf("the page shows a raw Connect step name: %q", words)
	}
	// The wrong password's own screen (the first refusal) was seen above; now
	// a wrong answer to the bank's security question: Connect says so in the
	// frame, the page in words, and the person can answer again.
	wait("start again", chromedp.Click(chromedp.CSS(`[data-testid=connect-restart-maxretry]`)))
	step("accept again", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=accept]"), f), chromedp.Click(chromedp.CSS("button[value=accept]"), f)}
	})
	step("bank again", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=FlinksCapital]"), f), chromedp.Click(chromedp.CSS("button[value=FlinksCapital]"), f)}
	})
	step("sign in with MFA", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS("#password"), f),
			chromedp.SetValue(chromedp.CSS("#username"), "Greatday", f),
			chromedp.SetValue(chromedp.CSS("#password"), "Everyday", f),
			chromedp.Submit(chromedp.CSS("#password"), f),
		}
	})
	step("wrong answer", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS("#answer"), f),
			chromedp.SetValue(chromedp.CSS("#answer"), "certainly not", f),
			chromedp.Submit(chromedp.CSS("#answer"), f),
		}
	})
	wait("wrong answer words", chromedp.Poll[chromedp.Void](`document.getElementById("connect-events").textContent.includes("did not accept the answer")`, chromedp.WithPollingTimeout(10*time.Second)))
	step("answer again", func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS(`#answer[aria-invalid=true]`), f), chromedp.WaitVisible(chromedp.CSS(`#form-error`), f)}
	})
	shot(t, ctx, "connect-wrong-answer")
}

// An unused Connect frame gets a new authorize token before the old one
// expires (here after 1 s, FLINKS_CONNECT_REFRESH).
func TestBrowserConnectTokenIsRenewedBeforeExpiry(t *testing.T) {
	base := startApp(t, map[string]string{"FLINKS_CONNECT_REFRESH": "1s"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#flinks-connect"))); err != nil {
		t.Fatal(err)
	}
	first := evaluate[string](t, ctx, `new URL(document.getElementById("flinks-connect").src).searchParams.get("authorizeToken")`)
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`document.getElementById("flinks-connect").dataset.reloads >= "1"`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the frame was not renewed: %v", err)
	}
	if again := evaluate[string](t, ctx, `new URL(document.getElementById("flinks-connect").src).searchParams.get("authorizeToken")`); again == first || again == "" {
		t.Errorf("renewed frame token %q, was %q", again, first)
	}
	if err := inConnect(ctx, func(f chromedp.QueryOption) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(chromedp.CSS("button[value=accept]"), f)}
	}); err != nil {
		t.Fatalf("the renewed frame does not show Connect: %v", err)
	}
}
