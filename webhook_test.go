package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flinkslink/flinks/flinkstest"
)

const testWebhookSecret = "webhook-secret-for-tests-0123456789"

// signed is a webhook request as Flinks sends it: the raw body, and its
// Base64 HMAC-SHA256 in flinks-authenticity-key (here computed with the
// standard library, independently of the app's verifier).
func postWebhook(t *testing.T, base string, body []byte, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/flinks", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		req.Header.Set("flinks-authenticity-key", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The embedded sandbox pushes a signed GetAccountsDetail webhook when the
// scrape ends. With Flinks' next poll an hour away, the link is ready from
// the push alone, and the poll never happens.
func TestWebhookCompletesAPendingLinkBeforeItsNextPoll(t *testing.T) {
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{
		env:        map[string]string{"FLINKS_POLL_INTERVAL": "1h", "SANDBOX_WEBHOOK_DELAY": "0s"},
		sandboxNow: clock.Now,
	}).base
	b := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, b, base, "greatday_nomfa")
	resp, _ := b.get(redirect.String())
	linkPath := resp.Header.Get("Location")
	waitLink(t, b, base, linkPath, 60*time.Second, pendingPolled) // GetAccountsDetail answered 202; next poll in 1 h
	clock.Advance(time.Second)                                    // the scrape ends: the sandbox pushes
	doc := waitLink(t, b, base, linkPath, 60*time.Second, isReady)
	if n := doc.Find("[data-testid=account]").Length(); n < 3 {
		t.Errorf("summary shows %d accounts, want the pushed 3+", n)
	}
	calls := strings.Join(apiCalls(t, b, base, linkPath), ", ")
	if strings.Contains(calls, "GetAccountsDetailAsync") {
		t.Errorf("calls %s: the link was polled; the webhook should have come first", calls)
	}
	if _, page := b.get(base + linkPath); !strings.Contains(page.Find("#timeline-details").Text(), "webhook") {
		t.Errorf("the timeline does not say the data came by webhook: %q", page.Find("#timeline-details").Text())
	}
}

// A push with a bad or missing signature, for an unknown card, or replayed,
// is refused with a 4xx and writes nothing; the first good one is taken,
// and one that comes after the poll won changes nothing.
func TestWebhookRefusals(t *testing.T) {
	clock := flinkstest.NewClock(time.Now())
	dbPath := filepath.Join(t.TempDir(), "app.db")
	base := launchApp(t, appOptions{
		env:        map[string]string{"FLINKS_POLL_INTERVAL": "1h", "FLINKS_WEBHOOK_SECRET": testWebhookSecret},
		dbPath:     dbPath,
		sandboxNow: clock.Now,
	}).base
	b := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, b, base, "greatday_nomfa")
	loginID := redirect.Query().Get("loginId")
	resp, _ := b.get(redirect.String())
	linkPath := resp.Header.Get("Location")
	waitLink(t, b, base, linkPath, 60*time.Second, pendingPolled)

	detail := func(login string) []byte {
		return []byte(`{"ResponseType":"GetAccountsDetail",` + strings.TrimPrefix(flinkstest.DetailBody("8c8917b6-bb03-49a4-a0f3-7b1226d8e9aa", login), "{"))
	}
	good := detail(loginID)
	written := func() string {
		t.Helper()
		db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var hooks, events, calls int
		var state string
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM webhook_deliveries), (SELECT count(*) FROM events),
			(SELECT count(*) FROM calls), (SELECT state FROM links)`).Scan(&hooks, &events, &calls, &state); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%d deliveries, %d events, %d calls, %s", hooks, events, calls, state)
	}
	before := written()
	for name, tc := range map[string]struct {
		body   []byte
		secret string
		want   int
	}{
		"no signature":      {good, "", http.StatusUnauthorized},
		"wrong secret":      {good, "another-secret-0123456789", http.StatusUnauthorized},
		"unknown card":      {detail("0f0e0d0c-1c0e-4f6a-9d55-2f0c5e7d9a10"), testWebhookSecret, http.StatusNotFound},
		"not JSON":          {[]byte(`<html>`), testWebhookSecret, http.StatusBadRequest},
		"deeply nested":     {[]byte(`{"ResponseType":"GetAccountsDetail","Accounts":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`), testWebhookSecret, http.StatusBadRequest},
		"no Accounts":       {[]byte(`{"ResponseType":"GetAccountsDetail","HttpStatusCode":200,"Login":{"Id":"` + loginID + `"}}`), testWebhookSecret, http.StatusBadRequest},
		"a KYC push (kept)": {[]byte(`{"ResponseType":"KYC","HttpStatusCode":200,"Login":{"Id":"` + loginID + `"}}`), testWebhookSecret, http.StatusOK},
	} {
		if got := postWebhook(t, base, tc.body, tc.secret); got != tc.want {
			t.Errorf("%s: %d, want %d", name, got, tc.want)
		}
	}
	if after := written(); after != before {
		t.Errorf("refused pushes wrote: before %s, after %s", before, after)
	}

	// The good push completes the link; its replay is refused.
	if got := postWebhook(t, base, good, testWebhookSecret); got != http.StatusOK {
		t.Fatalf("good push: %d, want 200", got)
	}
	waitLink(t, b, base, linkPath, 30*time.Second, isReady)
	done := written()
	if got := postWebhook(t, base, good, testWebhookSecret); got != http.StatusConflict {
		t.Errorf("replayed push: %d, want 409", got)
	}
	// Another push for the card, after it is ready, is taken but changes nothing.
	var later map[string]any
	_ = json.Unmarshal(good, &later)
	later["Tag"] = "later"
	laterBody, _ := json.Marshal(later)
	if got := postWebhook(t, base, laterBody, testWebhookSecret); got != http.StatusOK {
		t.Errorf("a later push: %d, want 200", got)
	}
	if after := written(); strings.SplitN(after, ",", 2)[1] != strings.SplitN(done, ",", 2)[1] {
		t.Errorf("after the link was ready, pushes wrote: %s, then %s", done, after)
	}
}

// A push that names no Login.Id is matched by the Connect tag it echoes.
func TestWebhookWithoutLoginIDMatchesByTag(t *testing.T) {
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{
		env:        map[string]string{"FLINKS_POLL_INTERVAL": "1h", "FLINKS_WEBHOOK_SECRET": testWebhookSecret},
		sandboxNow: clock.Now,
	}).base
	b := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, b, base, "greatday_nomfa")
	tag := redirect.Query().Get("tag")
	resp, _ := b.get(redirect.String())
	linkPath := resp.Header.Get("Location")
	waitLink(t, b, base, linkPath, 60*time.Second, pendingPolled)

	var push map[string]any
	if err := json.Unmarshal([]byte(flinkstest.DetailBody("8c8917b6-bb03-49a4-a0f3-7b1226d8e9aa", "")), &push); err != nil {
		t.Fatal(err)
	}
	delete(push, "Login")
	push["ResponseType"], push["Tag"] = "GetAccountsDetail", tag
	body, _ := json.Marshal(push)
	if got := postWebhook(t, base, body, testWebhookSecret); got != http.StatusOK {
		t.Fatalf("push matched by tag: %d, want 200", got)
	}
	waitLink(t, b, base, linkPath, 30*time.Second, isReady)

	push["Tag"] = "a-tag-nobody-has"
	body, _ = json.Marshal(push)
	if got := postWebhook(t, base, body, testWebhookSecret); got != http.StatusNotFound {
		t.Errorf("push with an unknown tag and no Login.Id: %d, want 404", got)
	}
}
