package handlers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"flinkslink/flinks"
	"flinkslink/handlers/parking"
	"flinkslink/store"
)

// fakeFetcher records Start calls instead of talking to Flinks; Cancel ends
// the link in the store as the real one does.
type fakeFetcher struct {
	mu     sync.Mutex
	starts []string
	db     *store.DB
}

func (f *fakeFetcher) Cancel(ctx context.Context, linkID string, fetch int) error {
	return f.db.RecordState(ctx, linkID, fetch, store.StateUpdate{
		State: store.StateFailed, ErrorCode: flinks.CodeCancelled, Note: store.NoteOf(store.NoteCancelled),
	})
}

func (f *fakeFetcher) Start(linkID string, fetch int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, linkID)
}

func (f *fakeFetcher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.starts)
}

// fakeTokens mints predictable authorize tokens.
type fakeTokens struct{ n int }

func (t *fakeTokens) GenerateAuthorizeToken(context.Context) (string, error) {
	t.n++
	return "token-" + string(rune('0'+t.n)), nil
}

// testApp is the handlers over a real SQLite store and a real HTTP server.
type testApp struct {
	t       *testing.T
	db      *store.DB
	fetcher *fakeFetcher
	srv     *httptest.Server
	cards   *fakeCards // records DeleteCard calls (links_test.go)
	tokens  *fakeTokens
	h       *Handler
	lot     *parking.Lot // the server's listener: parked status requests
}

// newTestApp starts the app; opts adjust its Config before New.
func newTestApp(t *testing.T, opts ...func(*Config)) *testApp {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "app.db"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ff := &fakeFetcher{db: db}
	connect, _ := url.Parse("https://toolbox-iframe.private.fin.ag/v2/")
	fc := &fakeCards{}
	cfg := Config{ConnectURL: connect, Demo: true, PollEvery: time.Second, Cards: fc}
	for _, opt := range opts {
		opt(&cfg)
	}
	tokens := &fakeTokens{}
	e := echo.New()
	// As main serves: waiting status requests are parked.
	srv := httptest.NewUnstartedServer(e)
	lot := parking.NewLot(srv.Listener)
	srv.Listener, cfg.Parking = lot, lot
	h := New(slog.New(slog.NewTextHandler(io.Discard, nil)), cfg, db, ff, tokens, NewCookieStore(make([]byte, 32), make([]byte, 32)))
	assets := fstest.MapFS{"css/app.css": {Data: []byte("body{}")}}
	h.Routes(e, assets)
	lot.SetHandler(e)
	srv.Config.RegisterOnShutdown(h.Drain) // as main does
	srv.Start()
	// After the server's close (cleanups run last first): its parked
	// requests' answers are written before the database closes.
	t.Cleanup(func() { lot.Wait(context.Background()) })
	t.Cleanup(srv.Close)
	return &testApp{t: t, db: db, fetcher: ff, srv: srv, cards: fc, tokens: tokens, h: h, lot: lot}
}

// browser is one cookie jar: one person's session.
type browser struct {
	app *testApp
	c   *http.Client
}

func (a *testApp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{app: a, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) get(path string, header ...string) (*http.Response, *goquery.Document) {
	b.app.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, *goquery.Document) {
	b.app.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.app.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		b.app.t.Fatal(err)
	}
	return resp, doc
}

// connectTag opens the landing page and returns the tag in the Connect URL.
func (b *browser) connectTag() string {
	b.app.t.Helper()
	_, doc := b.get("/")
	src, ok := doc.Find("[data-testid=connect-iframe]").Attr("src")
	if !ok {
		b.app.t.Fatal("landing page has no Connect iframe")
	}
	u, err := url.Parse(src)
	if err != nil {
		b.app.t.Fatal(err)
	}
	return u.Query().Get("tag")
}

const testLoginID = "5602459c-f6d0-4ca0-6750-08dccdcadcc0"

func callbackPathFor(loginID, tag string) string {
	q := url.Values{"loginId": {loginID}, "institution": {"FlinksCapital"}, "tag": {tag}}
	return "/connect/callback?" + q.Encode()
}

func TestLandingPageBuildsConnectURL(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	resp, doc := b.get("/", "Accept-Language", "fr-CA,fr;q=0.9,en;q=0.5")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	src, _ := doc.Find("[data-testid=connect-iframe]").Attr("src")
	u, err := url.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Scheme+"://"+u.Host+u.Path, "https://toolbox-iframe.private.fin.ag/v2/"; got != want {
		t.Errorf("connect base %q, want %q", got, want)
	}
	q := u.Query()
	for key, want := range map[string]string{
		"redirectUrl":    app.srv.URL + "/connect/callback",
		"innerRedirect":  "true",
		"demo":           "true",
		"language":       "fr",
		"authorizeToken": "token-1",
		"consentEnable":  "true",
	} {
		if got := q.Get(key); got != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	if len(q.Get("tag")) < 16 {
		t.Errorf("tag %q is too short to be unguessable", q.Get("tag"))
	}
	if tag2 := b.connectTag(); tag2 != q.Get("tag") {
		t.Errorf("tag changed between page loads of one browser: %q then %q", q.Get("tag"), tag2)
	}
	if other := app.browser().connectTag(); other == q.Get("tag") {
		t.Error("two browsers were issued the same tag")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-src 'self' https://toolbox-iframe.private.fin.ag", "frame-ancestors 'self'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options=%q", got)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie %+v, want HttpOnly and SameSite=Lax", cookie)
	}
}

func TestCallbackRejectsBadInput(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	tag := b.connectTag()
	cases := []struct {
		name, query, wantMsg string
	}{
		{"missing loginId", "institution=FlinksCapital&tag=" + tag, "missing the loginId"},
		{"loginId not a GUID", "loginId=abc&institution=FlinksCapital&tag=" + tag, "not a valid Flinks identifier"},
		{"loginId with script", "loginId=%3Cscript%3E&institution=FlinksCapital&tag=" + tag, "not a valid Flinks identifier"},
		{"two loginIds", "loginId=" + testLoginID + "&loginId=" + testLoginID + "&institution=FlinksCapital&tag=" + tag, "more than one loginId"},
		{"missing institution", "loginId=" + testLoginID + "&tag=" + tag, "missing the institution"},
		{"bad institution", "loginId=" + testLoginID + "&institution=%22%3E%3Cx&tag=" + tag, "not a valid Flinks institution"},
		{"missing tag", "loginId=" + testLoginID + "&institution=FlinksCapital", "does not carry the code"},
		{"foreign tag", "loginId=" + testLoginID + "&institution=FlinksCapital&tag=someone-elses-tag-value", "does not carry the code"},
		{"bad accountId", "loginId=" + testLoginID + "&institution=FlinksCapital&accountId=nope&tag=" + tag, "accountId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, doc := b.get("/connect/callback?" + tc.query)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
			if msg := doc.Find("[data-testid=error-message]").Text(); !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("message %q does not contain %q", msg, tc.wantMsg)
			}
		})
	}
	if n := app.fetcher.count(); n != 0 {
		t.Errorf("bad callbacks started %d fetches, want 0", n)
	}
	if links, err := app.db.LinksByLoginID(t.Context(), testLoginID); err != nil || len(links) != 0 {
		t.Errorf("bad callbacks recorded %d links (err %v), want 0", len(links), err)
	}
}

func TestCallbackCreatesOneLinkAndRedirects(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	tag := b.connectTag()
	resp, _ := b.get(callbackPathFor(testLoginID, tag))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/links/") || strings.Contains(loc, testLoginID) {
		t.Fatalf("Location %q: want /links/{id} without the LoginId", loc)
	}
	// A reload of the redirect URL lands on the same link.
	resp2, _ := b.get(callbackPathFor(testLoginID, tag))
	if got := resp2.Header.Get("Location"); got != loc {
		t.Errorf("reload went to %q, want %q", got, loc)
	}
	links, err := app.db.LinksByLoginID(t.Context(), testLoginID)
	if err != nil || len(links) != 1 {
		t.Fatalf("links for LoginId: %d (err %v), want 1", len(links), err)
	}
	if app.fetcher.count() == 0 {
		t.Error("no fetch was started")
	}

	// The link page never shows the LoginId and belongs to this browser only.
	resp3, doc := b.get(loc)
	if resp3.StatusCode != http.StatusOK {
		t.Fatalf("link page status %d", resp3.StatusCode)
	}
	if html, _ := doc.Html(); strings.Contains(html, testLoginID) {
		t.Error("link page renders the LoginId")
	}
	if resp4, _ := app.browser().get(loc); resp4.StatusCode != http.StatusNotFound {
		t.Errorf("another browser got %d for the link, want 404", resp4.StatusCode)
	}
}

func TestCallbackInsideIframeBreaksOut(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	resp, doc := b.get(callbackPathFor(testLoginID, b.connectTag()), "Sec-Fetch-Dest", "iframe")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	target, _ := doc.Find("body").Attr("data-breakout-target")
	if !strings.HasPrefix(target, "/links/") {
		t.Errorf("breakout target %q, want /links/{id}", target)
	}
	if href, _ := doc.Find("[data-testid=breakout-link]").Attr("href"); href != target {
		t.Errorf("fallback link %q, want %q", href, target)
	}
}

// linkFor creates a link for b through the redirect handler and returns its path.
func (b *browser) linkFor(loginID string) string {
	b.app.t.Helper()
	resp, _ := b.get(callbackPathFor(loginID, b.connectTag()))
	return resp.Header.Get("Location")
}

func TestStatusFragmentPollsUntilTerminal(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	ctx := t.Context()
	link, err := app.db.Link(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.db.RecordState(ctx, id, link.Fetch, store.StateUpdate{State: store.StatePending, RequestID: "r1", Polls: 3, NextPollAt: time.Now().Add(5 * time.Second)}); err != nil {
		t.Fatal(err)
	}

	resp, doc := b.get(path+"/status", "HX-Request", "true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if doc.Find("title").Length() != 0 || doc.Find("header.site").Length() != 0 {
		t.Error("htmx fragment contains a full page")
	}
	st := doc.Find("#link-status")
	if got, _ := st.Attr("data-state"); got != "pending" {
		t.Errorf("data-state %q, want pending", got)
	}
	// A long poll: the URL names the version shown, the next request goes
	// out as soon as this answer is swapped in, and the 1 s ticks only ask
	// again after a failed request (hx-sync drops them while one waits).
	if got, _ := st.Attr("hx-get"); !strings.HasPrefix(got, path+"/status?v=") {
		t.Errorf("hx-get %q, want %q", got, path+"/status?v=…")
	}
	if got, _ := st.Attr("hx-trigger"); got != "load, every 1s" {
		t.Errorf("hx-trigger %q", got)
	}
	if got, _ := st.Attr("hx-sync"); got != "this:drop" {
		t.Errorf("hx-sync %q", got)
	}
	if got, _ := st.Attr("hx-swap"); got != "outerHTML" {
		t.Errorf("hx-swap %q", got)
	}
	if got := doc.Find("[data-testid=polls]").Text(); got != "3" {
		t.Errorf("polls shown %q, want 3", got)
	}
	// Between two answers the page counts the elapsed time on from this.
	if ms, err := strconv.Atoi(doc.Find("[data-testid=elapsed] time").AttrOr("data-elapsed-ms", "")); err != nil || ms <= 0 {
		t.Errorf("running fetch's elapsed time carries data-elapsed-ms %q, want a positive count", doc.Find("[data-testid=elapsed] time").AttrOr("data-elapsed-ms", ""))
	}

	// Without HX-Request the same URL is the full page.
	_, full := b.get(path + "/status")
	if full.Find("title").Length() == 0 || full.Find("#link-status").Length() != 1 {
		t.Error("non-htmx request to the fragment URL did not get the full page")
	}

	// Terminal: ready with a snapshot. No polling attributes remain.
	cur, credit := int64(510560), int64(150025)
	err = app.db.CompleteFetch(ctx, id, link.Fetch, store.Snapshot{
		Institution: "FlinksCapital", LastRefresh: time.Date(2025, 1, 31, 17, 40, 54, 0, time.UTC), HolderName: "John Doe",
		Accounts: []store.Account{{
			ID: "27a9ffa0-c6b9-4cc6-9eaa-aa9efa07a889", Title: "Chequing Account", Last4: "1238", Type: "Chequing",
			Category: "Operations", Currency: "CAD", Current: &cur,
			Transactions: []store.Transaction{{ID: "t1", Date: "2025-01-31", Description: "PAYROLL", Credit: &credit, Balance: &cur}},
		}},
	}, store.NoteOf(store.NoteDataReceived, 1))
	if err != nil {
		t.Fatal(err)
	}
	_, doc = b.get(path+"/status", "HX-Request", "true")
	st = doc.Find("#link-status")
	if doc.Find("[data-elapsed-ms]").Length() != 0 {
		t.Error("a finished fetch's elapsed time still counts on")
	}
	for _, attr := range []string{"hx-get", "hx-trigger"} {
		if _, ok := st.Attr(attr); ok {
			t.Errorf("terminal render still has %s", attr)
		}
	}
	if got, _ := st.Attr("data-state"); got != "ready" {
		t.Errorf("data-state %q, want ready", got)
	}
	if got := doc.Find("[data-testid=balance-current]").Text(); got != "$5,105.60" {
		t.Errorf("current balance %q, want $5,105.60", got)
	}
	if got := doc.Find("[data-testid=account-number]").Text(); got != "•••• 1238" {
		t.Errorf("masked number %q", got)
	}
	if got := doc.Find("[data-testid=summary-holder]").Text(); got != "John Doe" {
		t.Errorf("holder %q", got)
	}
	if got := doc.Find("[data-testid=transaction] .credit").Text(); got != "$1,500.25" {
		t.Errorf("credit %q", got)
	}
}

func TestFailedLinkExplainsAndRetries(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	ctx := t.Context()
	link, _ := app.db.Link(ctx, id)
	if err := app.db.RecordState(ctx, id, link.Fetch, store.StateUpdate{State: store.StateFailed, ErrorCode: "RETRY_LATER", ErrorMessage: "bank unavailable"}); err != nil {
		t.Fatal(err)
	}
	_, doc := b.get(path)
	if got := doc.Find("[data-testid=failure-code]").Text(); got != "RETRY_LATER" {
		t.Errorf("failure code %q", got)
	}
	if doc.Find("[data-testid=retry]").Length() != 1 {
		t.Fatal("no Try again button for a retryable failure")
	}
	csrf, _ := doc.Find("input[name=csrf]").Attr("value")
	before := app.fetcher.count()

	// Without the CSRF token the POST is refused and nothing starts.
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+path+"/retry", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := b.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("retry without token: %d, want 403", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, app.srv.URL+path+"/retry", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := b.do(req)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path {
		t.Fatalf("retry: %d to %q, want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), path)
	}
	if app.fetcher.count() != before+1 {
		t.Error("retry did not start a fetch")
	}
	link, _ = app.db.Link(ctx, id)
	if link.State != store.StateReceived || link.Fetch != 2 {
		t.Errorf("after retry: state %s fetch %d, want received 2", link.State, link.Fetch)
	}
	// Another browser cannot retry it.
	other := app.browser()
	other.connectTag()
	req, _ = http.NewRequest(http.MethodPost, app.srv.URL+path+"/retry", nil)
	req.Header.Set("X-CSRF-Token", csrf)
	if resp, _ := other.do(req); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		t.Errorf("foreign retry: %d, want 403 or 404", resp.StatusCode)
	}
}

func TestHealthz(t *testing.T) {
	app := newTestApp(t)
	resp, err := http.Get(app.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz %d, want 200", resp.StatusCode)
	}
	app.db.Close()
	resp, err = http.Get(app.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz with closed db %d, want 503", resp.StatusCode)
	}
}

// /healthz fails while the database cannot write (a full disk: SQLite's own
// SQLITE_FULL from a capped file), and recovers with the first write that
// succeeds once there is space again.
func TestHealthzFailsWhileTheDatabaseCannotWrite(t *testing.T) {
	app := newTestApp(t)
	health := func() int {
		t.Helper()
		resp, err := http.Get(app.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	if err := app.db.SetMaxSize(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	big := store.Call{Endpoint: "GetAccountsDetailAsync", StatusCode: 200, Body: bytes.Repeat([]byte("x"), 200<<10)}
	if err := app.db.RecordCall(t.Context(), id, 1, big); err == nil {
		t.Fatal("a 200 KiB write into a full database succeeded")
	}
	if got := health(); got != http.StatusServiceUnavailable {
		t.Errorf("healthz with a full disk: %d, want 503", got)
	}
	if err := app.db.SetMaxSize(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if err := app.db.RecordCall(t.Context(), id, 1, big); err != nil {
		t.Fatal(err)
	}
	if got := health(); got != http.StatusOK {
		t.Errorf("healthz once the database writes again: %d, want 200", got)
	}
}

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		cents int64
		cur   string
		want  string
	}{
		{0, "CAD", "$0.00"},
		{5, "CAD", "$0.05"},
		{123456789, "CAD", "$1,234,567.89"},
		{-4999, "CAD", "-$49.99"},
		{100000, "USD", "US$1,000.00"},
		{-9223372036854775808, "CAD", "-$92,233,720,368,547,758.08"},
	} {
		if got := formatMoney(tc.cents, tc.cur, "en"); got != tc.want {
			t.Errorf("formatMoney(%d, %s) = %q, want %q", tc.cents, tc.cur, got, tc.want)
		}
	}
}

func storeFailed(code string) store.StateUpdate {
	return store.StateUpdate{State: store.StateFailed, ErrorCode: code, ErrorMessage: "test failure"}
}
