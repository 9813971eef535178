package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"flinkslink/flinks/sandbox"
)

// upstreamCall is one request the app sent to the external Flinks.
type upstreamCall struct {
	At        time.Time
	Method    string
	Endpoint  string // the path after /BankingServices/
	APIKey    string
	AuthKey   string
	Body      map[string]any
	Connected bool // a Connect page, not an API call
}

// recordingFlinks serves the standalone sandbox and records every API call.
type recordingFlinks struct {
	mu    sync.Mutex
	calls []upstreamCall
}

func (rf *recordingFlinks) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := strings.Index(r.URL.Path, "/BankingServices/"); i >= 0 {
			raw, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
			c := upstreamCall{At: time.Now(), Method: r.Method, Endpoint: r.URL.Path[i+len("/BankingServices/"):],
				APIKey: r.Header.Get("x-api-key"), AuthKey: r.Header.Get("flinks-auth-key")}
			_ = json.Unmarshal(raw, &c.Body)
			rf.mu.Lock()
			rf.calls = append(rf.calls, c)
			rf.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (rf *recordingFlinks) snapshot() []upstreamCall {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return append([]upstreamCall(nil), rf.calls...)
}

// externalFlinksEnv configures the app for a Flinks at upstream (the
// standalone sandbox behind a test's wrapper), with the Toolbox's keys and
// its demo bank, plus extra settings.
func externalFlinksEnv(upstream string, extra map[string]string) map[string]string {
	env := map[string]string{
		"FLINKS_API_URL":     upstream + "/v3/" + sandbox.DefaultCustomerID,
		"FLINKS_CONNECT_URL": upstream + "/v2/",
		"FLINKS_API_KEY":     sandbox.DefaultAPIKey,
		"FLINKS_SECRET_KEY":  sandbox.DefaultSecretKey,
		"FLINKS_DEMO":        "true",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestAgainstExternalFlinks points the app at a separate Flinks-compatible
// server (the standalone sandbox behind a recorder) by configuration alone,
// and checks what that upstream sees.
func TestAgainstExternalFlinks(t *testing.T) {
	sb, err := sandbox.New(sandbox.Config{TimeScale: 0.05, StatePath: filepath.Join(t.TempDir(), "sandbox.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	rec := &recordingFlinks{}
	upstream := httptest.NewServer(rec.wrap(sb))
	t.Cleanup(upstream.Close)

	const interval = 300 * time.Millisecond
	base := startApp(t, externalFlinksEnv(upstream.URL, map[string]string{"FLINKS_POLL_INTERVAL": interval.String()}))
	b := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, b, base, "greatday_nomfa")
	if !strings.HasPrefix(redirect.String(), base+"/connect/callback?") {
		t.Fatalf("Connect redirected to %s, want our callback", redirect)
	}
	loginID := redirect.Query().Get("loginId")
	resp, _ := b.get(redirect.String())
	linkURL := base + resp.Header.Get("Location")
	deadline := time.Now().Add(15 * time.Second)
	state := ""
	for time.Now().Before(deadline) && state != "ready" {
		_, doc := b.get(linkURL+"/status", "HX-Request", "true")
		state, _ = doc.Find("#link-status").Attr("data-state")
		if state == "failed" || state == "timed_out" {
			t.Fatalf("link ended %s", state)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if state != "ready" {
		t.Fatalf("link did not become ready (last state %q)", state)
	}

	calls := rec.snapshot()
	var authorize, detail *upstreamCall
	var polls []upstreamCall
	tokens := 0
	for i := range calls {
		c := &calls[i]
		switch {
		case c.Endpoint == "GenerateAuthorizeToken":
			tokens++
			if c.AuthKey != sandbox.DefaultSecretKey {
				t.Errorf("GenerateAuthorizeToken flinks-auth-key %q, want the secret key", c.AuthKey)
			}
		case c.Endpoint == "Authorize" && c.Body["LoginId"] == loginID:
			authorize = c
		case c.Endpoint == "GetAccountsDetail":
			detail = c
		case strings.HasPrefix(c.Endpoint, "GetAccountsDetailAsync/"):
			polls = append(polls, *c)
		}
	}
	if tokens < 2 {
		t.Errorf("%d authorize tokens minted, want one for Connect and one for the cached Authorize", tokens)
	}
	if authorize == nil {
		t.Fatal("upstream saw no Authorize with the LoginId")
	}
	if authorize.Body["MostRecentCached"] != true {
		t.Errorf("Authorize body %v, want MostRecentCached true", authorize.Body)
	}
	if authorize.AuthKey == "" || authorize.AuthKey == sandbox.DefaultSecretKey {
		t.Errorf("Authorize flinks-auth-key %q, want a fresh authorize token", authorize.AuthKey)
	}
	if detail == nil || detail.Method != http.MethodPost || detail.APIKey != sandbox.DefaultAPIKey {
		t.Fatalf("GetAccountsDetail call %+v, want a POST with the x-api-key", detail)
	}
	if detail.Body["DaysOfTransactions"] != "Days90" {
		t.Errorf("GetAccountsDetail body %v, want Days90", detail.Body)
	}
	if len(polls) == 0 {
		t.Fatal("upstream saw no GetAccountsDetailAsync poll")
	}
	prev := detail.At
	for _, p := range polls {
		if p.Method != http.MethodGet || p.APIKey != sandbox.DefaultAPIKey || p.Body != nil {
			t.Errorf("poll %+v: want a bodyless GET with the x-api-key", p)
		}
		if !strings.HasSuffix(p.Endpoint, "/"+detail.Body["RequestId"].(string)) {
			t.Errorf("poll %s does not use the data call's RequestId %v", p.Endpoint, detail.Body["RequestId"])
		}
		if gap := p.At.Sub(prev); gap < interval-20*time.Millisecond {
			t.Errorf("poll came %v after the previous call, want ≥ %v", gap, interval)
		}
		prev = p.At
	}
	// The browser polled about every 50 ms; Flinks must not see that pace.
	if n := len(calls); n > 20 {
		t.Errorf("upstream saw %d calls for one link; browser polls must not reach Flinks", n)
	}
}
