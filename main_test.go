package main

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"flinkslink/flinks/flinkstest"
	"flinkslink/flinks/sandbox"
)

// appOptions configures launchApp. The zero value runs the app with the
// embedded sandbox, 20 times faster than real time, its database in a new
// temporary folder.
type appOptions struct {
	env        map[string]string // over the defaults below
	dbPath     string            // "": app.db in a new temporary folder
	logs       io.Writer         // also receives the log; it is shown when the test fails
	sandboxNow func() time.Time  // the embedded sandbox's clock (nil: real time)
}

// runningApp is the whole app running in this process.
type runningApp struct {
	base string
	// stop shuts the app down like SIGTERM does and returns run's error; it
	// also runs at cleanup.
	stop func() error
}

// launchApp runs the whole app in this process on a free port and waits
// until it listens.
func launchApp(t *testing.T, o appOptions) *runningApp {
	t.Helper()
	if o.dbPath == "" {
		o.dbPath = filepath.Join(t.TempDir(), "app.db")
	}
	full := map[string]string{
		"ADDR":                 "127.0.0.1:0",
		"DB_PATH":              o.dbPath,
		"SANDBOX_TIME_SCALE":   "0.05", // the sandbox's 10 s scrape takes 0.5 s
		"FLINKS_POLL_INTERVAL": "100ms",
		"LOG_LEVEL":            "warn",
	}
	maps.Copy(full, o.env)
	logs := &lockedBuffer{}
	var logw io.Writer = logs
	if o.logs != nil {
		logw = io.MultiWriter(logs, o.logs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return full[k] }, logw, ready, hooks{sandboxNow: o.sandboxNow})
	}()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				t.Error("app did not shut down within 30 s")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("app log:\n%s", logs.String())
		}
	})
	select {
	case base := <-ready:
		return &runningApp{base: base, stop: stop}
	case err := <-done:
		t.Fatalf("app did not start: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatal("app did not start within 60 s")
	}
	return nil
}

// startApp is launchApp with env over the defaults; it returns the base URL.
func startApp(t *testing.T, env map[string]string) string {
	t.Helper()
	return launchApp(t, appOptions{env: env}).base
}

// httpBrowser is a cookie-keeping client that does not follow redirects, so
// each hop can be asserted.
type httpBrowser struct {
	t *testing.T
	c *http.Client
}

func newHTTPBrowser(t *testing.T) *httpBrowser {
	jar, _ := cookiejar.New(nil)
	return &httpBrowser{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *httpBrowser) do(req *http.Request) (*http.Response, *goquery.Document) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, doc
}

func (b *httpBrowser) get(rawURL string, header ...string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// submit posts the first form of doc that contains selector (a field or a
// button), with its hidden fields, the given values, and the clicked button.
func (b *httpBrowser) submit(pageURL *url.URL, doc *goquery.Document, selector string, values map[string]string) (*http.Response, *goquery.Document) {
	b.t.Helper()
	form := doc.Find("form").FilterFunction(func(_ int, f *goquery.Selection) bool { return f.Find(selector).Length() > 0 }).First()
	if form.Length() == 0 {
		html, _ := doc.Html()
		b.t.Fatalf("no form with %s on %s:\n%s", selector, pageURL, html)
	}
	data := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, in *goquery.Selection) {
		name, _ := in.Attr("name")
		val, _ := in.Attr("value")
		data.Set(name, val)
	})
	if btn := form.Find(selector).Filter("button"); btn.Length() > 0 {
		name, _ := btn.Attr("name")
		val, _ := btn.Attr("value")
		if name != "" {
			data.Set(name, val)
		}
	}
	for k, v := range values {
		data.Set(k, v)
	}
	action, _ := form.Attr("action")
	target, err := pageURL.Parse(action)
	if err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(data.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// connectThroughSandbox opens the landing page and completes the Connect
// iframe it embeds as username; it returns the URL Connect redirected to.
func connectThroughSandbox(t *testing.T, b *httpBrowser, base, username string) *url.URL {
	t.Helper()
	_, home := b.get(base + "/")
	src, ok := home.Find("[data-testid=connect-iframe]").Attr("src")
	if !ok {
		t.Fatal("landing page has no Connect iframe")
	}
	connectURL, err := url.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return connectFlow(t, b, connectURL, username)
}

// connectFlow walks the sandbox's Connect pages like a person would: consent,
// Flinks Capital, credentials, the security question when one is asked.
func connectFlow(t *testing.T, b *httpBrowser, connectURL *url.URL, username string) *url.URL {
	t.Helper()
	_, doc := b.get(connectURL.String())
	_, doc = b.submit(connectURL, doc, "button[value=accept]", nil)
	_, doc = b.submit(connectURL, doc, "button[value=FlinksCapital]", nil)
	resp, doc := b.submit(connectURL, doc, "input[name=password]", map[string]string{"username": username, "password": "Everyday"})
	if resp.StatusCode == http.StatusOK && doc.Find("input[name=answer]").Length() > 0 {
		prompt := strings.TrimSpace(doc.Find("label[for=answer]").Text())
		answer := ""
		for _, sc := range sandbox.Scenarios() {
			if strings.EqualFold(sc.Username, username) {
				answer = sc.MFAAnswers[prompt]
			}
		}
		if answer == "" {
			t.Fatalf("no known answer to the security question %q", prompt)
		}
		resp, doc = b.submit(connectURL, doc, "input[name=answer]", map[string]string{"answer": answer})
	}
	if resp.StatusCode == http.StatusOK && doc.Find("input[name=accountId]").Length() > 0 {
		// The account selector (FLINKS_ACCOUNT_SELECTOR): the first account.
		first, _ := doc.Find("input[name=accountId]").First().Attr("value")
		resp, doc = b.submit(connectURL, doc, "input[name=accountId]", map[string]string{"accountId": first})
	}
	if resp.StatusCode != http.StatusSeeOther {
		html, _ := doc.Html()
		t.Fatalf("Connect did not redirect after signing in as %s: %d\n%s", username, resp.StatusCode, html)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// lockedBuffer is a bytes.Buffer safe for the app's concurrent log writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestFullFlowOverHTTP(t *testing.T) {
	logs := &lockedBuffer{}
	// The sandbox's clock stands still: its scrape ends only when the test
	// moves it, so the pending state is there to see however slow the machine.
	clock := flinkstest.NewClock(time.Now())
	base := launchApp(t, appOptions{env: map[string]string{"LOG_LEVEL": "debug"}, logs: logs, sandboxNow: clock.Now}).base
	b := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, b, base, "greatday_nomfa")
	if got, want := redirect.Scheme+"://"+redirect.Host+redirect.Path, base+"/connect/callback"; got != want {
		t.Fatalf("Connect redirected to %s, want %s", got, want)
	}
	q := redirect.Query()
	if q.Get("loginId") == "" || q.Get("institution") != "FlinksCapital" || q.Get("tag") == "" {
		t.Fatalf("redirect query %v lacks loginId/institution/tag", q)
	}

	// The redirect handler answers before Flinks has the data: the scrape
	// cannot end while the sandbox's clock stands still.
	resp, _ := b.get(redirect.String())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback status %d, want 303", resp.StatusCode)
	}
	linkURL := base + resp.Header.Get("Location")

	// Poll the fragment like htmx does: pending (Flinks answered 202) first,
	// then ready once the scrape has ended.
	seen := map[string]bool{}
	var doc *goquery.Document
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		_, doc = b.get(linkURL+"/status", "HX-Request", "true")
		state, _ := doc.Find("#link-status").Attr("data-state")
		if state == "pending" && !seen["pending"] {
			clock.Advance(time.Second) // past the scrape's end (10 s × 0.05)
		}
		seen[state] = true
		if state == "ready" || state == "failed" || state == "timed_out" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if state, _ := doc.Find("#link-status").Attr("data-state"); state != "ready" {
		html, _ := doc.Html()
		t.Fatalf("link ended %q, want ready:\n%s", state, html)
	}
	if !seen["pending"] {
		t.Errorf("never saw the pending state; saw %v", seen)
	}
	if _, ok := doc.Find("#link-status").Attr("hx-get"); ok {
		t.Error("ready render still polls")
	}
	if n := doc.Find("[data-testid=account]").Length(); n < 3 {
		t.Errorf("summary shows %d accounts, want the sandbox's 3+", n)
	}
	if n := doc.Find("[data-testid=transaction]").Length(); n == 0 {
		t.Error("summary shows no transactions")
	}
	html, _ := doc.Html()
	if strings.Contains(html, q.Get("loginId")) {
		t.Error("the summary renders the LoginId")
	}
	// The log, at debug level, says which Flinks is used but never holds a
	// credential: not the LoginId, not the keys.
	logged := logs.String()
	if !strings.Contains(logged, "embedded sandbox") {
		t.Errorf("the log does not say which Flinks is in use:\n%s", logged)
	}
	for name, secret := range map[string]string{"LoginId": q.Get("loginId"), "secret key": sandbox.DefaultSecretKey, "api key": sandbox.DefaultAPIKey} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
}

// TestReadmeListsSandboxUsers keeps the README's user table true.
func TestReadmeListsSandboxUsers(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range sandbox.Scenarios() {
		if !strings.Contains(string(raw), "| `"+sc.Username+"` |") {
			t.Errorf("README does not list sandbox user %s", sc.Username)
		}
	}
}

// TestReadmeImagesExist: every screenshot the README shows is in the repository.
func TestReadmeImagesExist(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`(?:\]\(|src=")(\.github/screenshots/[^)"]+)`).FindAllStringSubmatch(string(raw), -1)
	if len(refs) < 10 {
		t.Errorf("the README shows %d screenshots, want the 1280 px and 390 px sets", len(refs))
	}
	for _, r := range refs {
		if _, err := os.Stat(r[1]); err != nil {
			t.Errorf("README shows %s: %v", r[1], err)
		}
	}
}

// HTTP2_CLEARTEXT=on serves HTTP/2 without TLS beside HTTP/1.1 (for a load
// balancer that speaks it to the app): the landing page answers over h2c
// and still over HTTP/1.1 (make bench long-polls 10,000 links over h2c). A
// value that is neither on nor off stops the start.
func TestCleartextHTTP2(t *testing.T) {
	app := launchApp(t, appOptions{env: map[string]string{"HTTP2_CLEARTEXT": "on"}})
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	h2 := &http.Client{Transport: tr, Timeout: time.Minute}
	for _, client := range []*http.Client{h2, {Timeout: time.Minute}} {
		resp, err := client.Get(app.base + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		want := "HTTP/1.1"
		if client == h2 {
			want = "HTTP/2.0"
		}
		if resp.StatusCode != http.StatusOK || resp.Proto != want {
			t.Errorf("landing page: %d over %s, want 200 over %s", resp.StatusCode, resp.Proto, want)
		}
	}
	if _, err := loadConfig(func(k string) string {
		return map[string]string{"HTTP2_CLEARTEXT": "yes"}[k]
	}); err == nil || !strings.Contains(err.Error(), "HTTP2_CLEARTEXT") {
		t.Errorf("HTTP2_CLEARTEXT=yes: %v, want an error naming the variable", err)
	}
}
