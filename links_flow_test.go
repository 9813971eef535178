package main

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"flinkslink/flinks"
	"flinkslink/flinks/sandbox"
	"flinkslink/views"
)

// TestScenarioCardSpeaksFrench: every sandbox user has a French summary kept
// in the app (the sandbox's own are English).
func TestScenarioCardSpeaksFrench(t *testing.T) {
	for _, sc := range sandbox.Scenarios() {
		if fr := views.ScenarioSummary(views.French, views.ScenarioView{Username: sc.Username, Summary: sc.Summary}); fr == sc.Summary || fr == "" {
			t.Errorf("no French summary for sandbox user %s", sc.Username)
		}
	}
}

// csrfOf returns the CSRF token of a page.
func csrfOf(t *testing.T, doc *goquery.Document) string {
	t.Helper()
	token, _ := doc.Find("meta[name=csrf-token]").Attr("content")
	if token == "" {
		t.Fatal("page has no csrf-token")
	}
	return token
}

func (b *httpBrowser) postForm(rawURL string, form url.Values, header ...string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// TestLinksActionsAgainstTheSandbox drives the scenario card's pending control,
// Refresh data, Delete and Start over through the whole app and its embedded
// sandbox, and checks what the sandbox saw.
func TestLinksActionsAgainstTheSandbox(t *testing.T) {
	base := startApp(t, nil)
	b := newHTTPBrowser(t)

	// The card lists every sandbox user with copy buttons, and the MFA answers.
	_, home := b.get(base + "/")
	if got, want := home.Find("[data-testid=scenario]").Length(), len(sandbox.Scenarios()); got != want {
		t.Errorf("scenario card lists %d users, want %d", got, want)
	}
	answers := home.Find("[data-username=Greatday] [data-testid=scenario-mfa] button[data-copy]")
	if answers.Length() != 3 {
		t.Errorf("Greatday shows %d answers with copy buttons, want 3", answers.Length())
	}
	csrf := csrfOf(t, home)
	setPending := func(value string) {
		t.Helper()
		resp, _ := b.postForm(base+"/settings/sandbox-pending", url.Values{"csrf": {csrf}, "pending": {value}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("set pending %s: %d", value, resp.StatusCode)
		}
	}

	// "never": even test_ready (ready at once by default) stays pending.
	setPending("never")
	stuck := linkVia(t, b, base, "test_ready")
	waitLink(t, b, base, stuck, 10*time.Second, pendingPolled)
	// "0 s": greatday_nomfa (pending ~10 s × scale by default) is ready without one 202.
	setPending("0s")
	redirect := connectThroughSandbox(t, b, base, "greatday_nomfa")
	loginID := redirect.Query().Get("loginId")
	resp, _ := b.get(redirect.String())
	linkPath := resp.Header.Get("Location")
	doc := waitLink(t, b, base, linkPath, 10*time.Second, isReady)
	if polls := strings.TrimSpace(doc.Find("[data-testid=polls]").Text()); polls != "0" {
		t.Errorf("with a 0 s pending duration Flinks answered 202 %s times", polls)
	}
	setPending("default")

	// Refresh data: a new cached fetch, back to ready.
	resp, doc = b.postForm(base+linkPath+"/refresh", url.Values{"return": {"link"}}, "HX-Request", "true", "X-CSRF-Token", csrf)
	if st, _ := doc.Find("#link-status").Attr("data-state"); resp.StatusCode != http.StatusOK || st == "ready" {
		t.Fatalf("refresh answered %d with state %q", resp.StatusCode, st)
	}
	waitLink(t, b, base, linkPath, 10*time.Second, isReady)

	// The list shows both: the stuck one pending (no delete), the other ready.
	_, list := b.get(base + "/links")
	if n := list.Find("[data-testid=link-row]").Length(); n != 2 {
		t.Errorf("list shows %d links, want 2", n)
	}
	// Deleting the stuck link is refused while its fetch runs.
	if resp, _ := b.postForm(base+stuck+"/delete", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("delete while running: %d, want 409", resp.StatusCode)
	}

	// Delete: the sandbox forgets the LoginId, and so does the app.
	resp, _ = b.postForm(base+linkPath+"/delete", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links?done=deleted" {
		t.Fatalf("delete: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, doc := b.get(base + linkPath); resp.StatusCode != http.StatusGone || !strings.Contains(doc.Find("h1").Text(), "deleted") {
		t.Errorf("deleted link: %d %q, want 410 saying it was deleted", resp.StatusCode, doc.Find("h1").Text())
	}
	client, err := flinks.NewClient(flinks.Config{
		BaseURL: base + "/sandbox/v3/" + sandbox.DefaultCustomerID, APIKey: sandbox.DefaultAPIKey, SecretKey: sandbox.DefaultSecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	var fe *flinks.Error
	if err := client.DeleteCard(t.Context(), loginID); !errors.As(err, &fe) || fe.FlinksCode != "INVALID_LOGIN" {
		t.Errorf("the sandbox still knows the deleted LoginId: DeleteCard again answered %v", err)
	}

	// Start over: the stuck link is no longer shown in this browser.
	if resp, _ := b.postForm(base+"/start-over", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start over: %d", resp.StatusCode)
	}
	if _, list := b.get(base + "/links"); list.Find("[data-testid=link-row]").Length() != 0 {
		t.Error("links still listed after Start over")
	}
}
