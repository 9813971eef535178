package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"flinkslink/flinks/sandbox"
)

// liveLogin connects username through the embedded sandbox's API (a live
// Authorize with Save), as Connect does, and returns the new LoginId.
func liveLogin(t *testing.T, base, username string) string {
	t.Helper()
	api := base + "/sandbox/v3/" + sandbox.DefaultCustomerID + "/BankingServices/"
	post := func(endpoint string, header map[string]string, body any) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, api+endpoint, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v (%v)", endpoint, resp.StatusCode, out, err)
		}
		return out
	}
	token := post("GenerateAuthorizeToken", map[string]string{"flinks-auth-key": sandbox.DefaultSecretKey}, nil)["Token"].(string)
	out := post("Authorize", map[string]string{"flinks-auth-key": token}, map[string]any{
		"Institution": "FlinksCapital", "Username": username, "Password": "Everyday", "Save": true})
	return out["Login"].(map[string]any)["Id"].(string)
}

// TestBrowserFollowsConnectRedirectEvent checks the landing page's handling of
// Connect's REDIRECT postMessage: a message from the Connect frame moves the
// whole page to our redirect handler, which lands on the link page.
func TestBrowserFollowsConnectRedirectEvent(t *testing.T) {
	base := startApp(t, map[string]string{"SANDBOX_TIME_SCALE": "0.05", "FLINKS_POLL_INTERVAL": "100ms"})
	loginID := liveLogin(t, base, "greatday_nomfa")
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#flinks-connect"))); err != nil {
		t.Fatalf("open landing page: %v", err)
	}
	src := evaluate[string](t, ctx, `document.getElementById("flinks-connect").src`)
	connectURL, err := url.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	redirect := base + "/connect/callback?" + url.Values{
		"loginId": {loginID}, "institution": {"FlinksCapital"}, "tag": {connectURL.Query().Get("tag")},
	}.Encode()
	// The event comes from inside the Connect frame, as Flinks Connect posts it.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("button[value=accept]"), chromedp.FromNode(mustFrame(t, ctx)))); err != nil {
		t.Fatalf("Connect did not load: %v", err)
	}
	post := `(parent.postMessage({step: "REDIRECT", institution: "FlinksCapital", url: ` + jsString(redirect) + `}, "*"), true)`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](post, chromedp.WithPollingInFrame(mustFrame(t, ctx)))); err != nil {
		t.Fatalf("post the REDIRECT event from the Connect frame: %v", err)
	}

	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#link-status[data-state="ready"] [data-testid=summary]`))); err != nil {
		shot(t, ctx, "failed-redirect-event")
		t.Fatalf("the REDIRECT event did not lead to the summary: %v", err)
	}
	location := evaluate[string](t, ctx, `window.location.href`)
	if !strings.HasPrefix(location, base+"/links/") || strings.Contains(location, loginID) {
		t.Errorf("page at %s, want the link page without the LoginId", location)
	}
}

// mustFrame returns the Connect iframe's node.
func mustFrame(t *testing.T, ctx context.Context) *chromedp.Node {
	t.Helper()
	frames, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#flinks-connect")))
	if err != nil || len(frames) == 0 {
		t.Fatalf("no Connect iframe: %v", err)
	}
	return frames[0]
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}
