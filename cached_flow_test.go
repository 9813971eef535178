package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks/flinkstest"
)

// apiCalls reads a link's Flinks calls from the JSON API as "Endpoint status".
func apiCalls(t *testing.T, b *httpBrowser, base, linkPath string) []string {
	t.Helper()
	resp, err := b.c.Get(base + "/api" + linkPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Timeline struct {
			Calls []struct {
				Endpoint string `json:"endpoint"`
				Status   int    `json:"status"`
			} `json:"calls"`
		} `json:"timeline"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&doc) != nil {
		t.Fatalf("GET /api%s: %d", linkPath, resp.StatusCode)
	}
	var out []string
	for _, c := range doc.Timeline.Calls {
		out = append(out, c.Endpoint+" "+http.StatusText(c.Status))
	}
	return out
}

// Connect's scrape still runs when the app's cached Authorize arrives, and
// Flinks answers that Authorize itself with 202 (audit D1): the link stays
// pending, polls that RequestId at Flinks' pace, and shows the summary.
func TestCachedAuthorize202ReachesTheSummary(t *testing.T) {
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{sandboxNow: clock.Now}).base
	b := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, b, base, "test_authorize_pending")
	resp, _ := b.get(redirect.String())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback answered %d", resp.StatusCode)
	}
	linkPath := resp.Header.Get("Location")
	waitLink(t, b, base, linkPath, 60*time.Second, pendingPolled)
	clock.Advance(time.Second) // the scrape (10 s × 0.05) ends
	doc := waitLink(t, b, base, linkPath, 60*time.Second, isReady)
	if n := doc.Find("[data-testid=account]").Length(); n < 3 {
		t.Errorf("summary shows %d accounts, want the sandbox's 3+", n)
	}
	calls := strings.Join(apiCalls(t, b, base, linkPath), ", ")
	if !strings.Contains(calls, "Authorize Accepted") || strings.Contains(calls, "GetAccountsDetail ") ||
		!strings.HasSuffix(calls, "GetAccountsDetailAsync OK") {
		t.Errorf("calls: %s; want Authorize 202, then polls of its RequestId ending in a 200", calls)
	}
}

// A cached Authorize that answers 401 QUESTION_NOT_FOUND replays the last
// refresh's failure; its RequestId still reads the cached data (audit D2).
// The summary shows, marked with the date of that data, with a way to
// reconnect, in English and in French.
func TestQuestionNotFoundShowsADatedSummary(t *testing.T) {
	base := startApp(t, nil)
	b := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, b, base, "test_question_not_found")
	resp, _ := b.get(redirect.String())
	linkPath := resp.Header.Get("Location")
	doc := waitLink(t, b, base, linkPath, 60*time.Second, isReady)
	if n := doc.Find("[data-testid=account]").Length(); n < 3 {
		t.Errorf("summary shows %d accounts, want the cached 3+", n)
	}
	stale := doc.Find("[data-testid=summary-stale]")
	if !strings.Contains(stale.Text(), "last saved data") || !regexp.MustCompile(`as of \w+ \d+, \d{4}`).MatchString(stale.Text()) {
		t.Errorf("stale notice %q; want it to say the data is the bank's last saved, with its date", stale.Text())
	}
	if href, _ := stale.Find("[data-testid=reconnect]").Attr("href"); href != "/" {
		t.Errorf("reconnect link %q, want the landing page (a new Connect)", href)
	}
	_, fr := b.get(base+linkPath, "Accept-Language", "fr-CA")
	if got := fr.Find("[data-testid=summary-stale]").Text(); !strings.Contains(got, "dernières données enregistrées") || !strings.Contains(got, "datent du") {
		t.Errorf("French stale notice %q", got)
	}
	if calls := strings.Join(apiCalls(t, b, base, linkPath), ", "); !strings.Contains(calls, "Authorize Unauthorized") || !strings.HasSuffix(calls, "GetAccountsDetail OK") {
		t.Errorf("calls: %s; want the 401 Authorize, then its RequestId's data", calls)
	}
}

// With the account selector on and a year of transactions asked for, the
// person picks one account in Connect; Flinks is asked for that account only
// (AccountsFilter) over 365 days, and the summary shows just it.
func TestAccountSelectorAndDays365(t *testing.T) {
	base := startApp(t, map[string]string{"FLINKS_ACCOUNT_SELECTOR": "multiple", "FLINKS_DAYS": "365"})
	b := newHTTPBrowser(t)
	_, home := b.get(base + "/")
	src, _ := home.Find("[data-testid=connect-iframe]").Attr("src")
	connectURL, err := url.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if q := connectURL.Query(); q.Get("accountSelectorEnable") != "true" || q.Get("accountSelectorMultiple") != "true" {
		t.Fatalf("Connect URL %s lacks the account selector", src)
	}
	redirect := connectFlow(t, b, connectURL, "greatday_nomfa")
	chosen := redirect.Query().Get("accountId")
	if chosen == "" {
		t.Fatalf("redirect %s carries no accountId", redirect)
	}
	resp, _ := b.get(redirect.String())
	linkPath := resp.Header.Get("Location")
	waitLink(t, b, base, linkPath, 60*time.Second, isReady)

	apiResp, err := b.c.Get(base + "/api" + linkPath)
	if err != nil {
		t.Fatal(err)
	}
	defer apiResp.Body.Close()
	var doc struct {
		Timeline struct {
			Calls []struct {
				Status int `json:"status"`
				Body   struct {
					Accounts []json.RawMessage
				} `json:"body"`
			} `json:"calls"`
		} `json:"timeline"`
		Summary struct {
			Accounts []struct {
				ID           string `json:"id"`
				Transactions []struct {
					Date string `json:"date"`
				} `json:"transactions"`
			} `json:"accounts"`
		} `json:"summary"`
	}
	if err := json.NewDecoder(apiResp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Summary.Accounts) != 1 || doc.Summary.Accounts[0].ID != chosen {
		t.Fatalf("summary has %d accounts (%+v), want only the chosen %s", len(doc.Summary.Accounts), doc.Summary.Accounts, chosen)
	}
	// Flinks itself sent only that account: the filter went upstream.
	calls := doc.Timeline.Calls
	if last := calls[len(calls)-1]; last.Status != http.StatusOK || len(last.Body.Accounts) != 1 {
		t.Errorf("Flinks' data answer (%d) holds %d accounts, want the 1 asked for with AccountsFilter", last.Status, len(last.Body.Accounts))
	}
	oldest := time.Now()
	for _, tx := range doc.Summary.Accounts[0].Transactions {
		if d, err := time.Parse(time.DateOnly, tx.Date); err == nil && d.Before(oldest) {
			oldest = d
		}
	}
	if age := time.Since(oldest); age < 100*24*time.Hour {
		t.Errorf("the oldest transaction is %v old; with Days365 the sandbox returns more than 90 days", age.Round(24*time.Hour))
	}
}

// "Refresh from the bank" is a live Authorize {LoginId, MostRecentCached:
// false, Save: true}. When the bank asks a security question (203), the link
// says so and continues in Connect on that RequestId; answering it there
// refreshes the same LoginId, and the link reads the new data.
func TestRefreshFromTheBankThroughASecurityQuestion(t *testing.T) {
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{sandboxNow: clock.Now}).base
	b := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, b, base, "test_refresh_mfa")
	loginID := redirect.Query().Get("loginId")
	resp, _ := b.get(redirect.String())
	linkPath := resp.Header.Get("Location")
	waitLink(t, b, base, linkPath, 60*time.Second, pendingPolled)
	clock.Advance(time.Second)
	waitLink(t, b, base, linkPath, 60*time.Second, isReady)
	_, page := b.get(base + linkPath)
	if page.Find("[data-testid=refresh-bank]").Length() != 1 || page.Find("[data-testid=refresh]").Length() != 1 {
		t.Fatal("the ready link does not offer both Re-read saved data and Refresh from the bank")
	}

	pageURL, _ := url.Parse(base + linkPath)
	resp, _ = b.submit(pageURL, page, "[data-testid=refresh-bank]", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("Refresh from the bank answered %d", resp.StatusCode)
	}
	doc := waitLink(t, b, base, linkPath, 60*time.Second, func(state string, _ int) bool { return state == "failed" || state == "ready" })
	if code := doc.Find("[data-testid=failure-code]").Text(); code != "MFA_REQUIRED" {
		t.Fatalf("after the live Authorize the link shows %q, want MFA_REQUIRED", code)
	}
	reconnect, ok := doc.Find("[data-testid=reconnect]").Attr("href")
	if !ok {
		t.Fatal("no Continue in Flinks Connect on the security-question failure")
	}
	calls := strings.Join(apiCalls(t, b, base, linkPath), ", ")
	if !strings.HasSuffix(calls, "Authorize Non-Authoritative Information") {
		t.Errorf("calls %s; want the live Authorize's 203 last", calls)
	}

	// The landing page resumes that RequestId in Connect, straight at the question.
	_, home := b.get(base + reconnect)
	if home.Find("[data-testid=reconnecting]").Length() != 1 {
		t.Error("the reconnect page does not say why Connect opens")
	}
	src, _ := home.Find("[data-testid=connect-iframe]").Attr("src")
	connectURL, err := url.Parse(src)
	if err != nil || connectURL.Query().Get("requestId") == "" {
		t.Fatalf("Connect URL %q does not resume a requestId", src)
	}
	_, mfa := b.get(connectURL.String())
	prompt := strings.TrimSpace(mfa.Find("label[for=answer]").Text())
	answer := map[string]string{"What city were you born in?": "Montreal", "What is the best country on earth?": "Canada", "What shape do people like most?": "Triangle"}[prompt]
	if answer == "" {
		t.Fatalf("resumed Connect does not open at the security question (prompt %q)", prompt)
	}
	resp, _ = b.submit(connectURL, mfa, "input[name=answer]", map[string]string{"answer": answer})
	back, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || back.Query().Get("loginId") != loginID {
		t.Fatalf("after the answer Connect answered %d → %q; want a redirect with the same LoginId", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = b.get(back.String())
	if resp.Header.Get("Location") != linkPath {
		t.Fatalf("the redirect went to %q, want the same link %s", resp.Header.Get("Location"), linkPath)
	}
	waitLink(t, b, base, linkPath, 60*time.Second, pendingPolled)
	clock.Advance(time.Second) // the refresh's scrape ends
	doc = waitLink(t, b, base, linkPath, 60*time.Second, isReady)
	if n := doc.Find("[data-testid=account]").Length(); n < 3 {
		t.Errorf("refreshed summary shows %d accounts", n)
	}
}
