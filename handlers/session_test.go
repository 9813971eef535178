package handlers

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// cookieOf returns the session cookie value b holds for the app.
func (b *browser) cookieOf(name string) *http.Cookie {
	u, _ := url.Parse(b.app.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// plant gives b a copy of cookie, as an attacker would plant theirs in a
// victim's browser (or keep a copy of a shared computer's).
func (b *browser) plant(cookie *http.Cookie) {
	u, _ := url.Parse(b.app.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value, Path: "/"}})
}

// Session fixation: an attacker plants their session cookie in the
// victim's browser; the victim links an account. The attacker's copy of the
// cookie must not reach the victim's link or summary.
func TestPlantedCookieCannotReadTheVictimsLink(t *testing.T) {
	app := newTestApp(t)
	attacker := app.browser()
	attacker.get("/") // gets a session (and a Connect tag)
	planted := attacker.cookieOf(sessionName)
	if planted == nil {
		t.Fatal("the landing page set no session cookie")
	}
	victim := app.browser()
	victim.plant(planted)
	path := victim.linkFor(testLoginID)
	if !strings.HasPrefix(path, "/links/") {
		t.Fatalf("victim's redirect went to %q", path)
	}
	app.finish(path, "ready", "")
	if resp, _ := victim.get(path); resp.StatusCode != http.StatusOK {
		t.Fatalf("the victim cannot open their own link: %d", resp.StatusCode)
	}
	if victim.cookieOf(sessionName).Value == planted.Value {
		t.Error("linking an account kept the planted session cookie")
	}
	for _, p := range []string{path, path + "/status", "/api" + path} {
		if resp, _ := attacker.get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("the planted cookie reads %s: %d, want 404", p, resp.StatusCode)
		}
	}
	// A reload of the redirect with the victim's new cookie finds the same link.
	if again := victim.linkFor(testLoginID); again != path {
		t.Errorf("reloading the redirect went to %s, want %s", again, path)
	}
}

// "Start over" revokes the old cookie: a copy kept of it reads nothing.
func TestStartOverRevokesTheOldCookie(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	app.finish(path, "ready", "")
	copyOfOld := app.browser()
	copyOfOld.plant(b.cookieOf(sessionName))
	if resp, _ := copyOfOld.get(path); resp.StatusCode != http.StatusOK {
		t.Fatalf("before Start over, the copied cookie cannot read the link (%d); the test proves nothing", resp.StatusCode)
	}
	if resp, _ := b.post(startOverPath, url.Values{"csrf": {b.csrf()}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("Start over: %d", resp.StatusCode)
	}
	for _, who := range []*browser{copyOfOld, b} {
		if resp, _ := who.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("after Start over the old link answers %d, want 404", resp.StatusCode)
		}
	}
}

// The CSRF token is taken from the form body or the header, never from the
// URL; and a too-large body's 413 carries the same security headers.
func TestCSRFTokenNotFromTheURLAnd413Headers(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	app.finish(path, "ready", "")
	token := b.csrf()
	if resp, _ := b.post(path+"/refresh?csrf="+url.QueryEscape(token), url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("token in the query: %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.post(path+"/refresh", url.Values{"csrf": {token}}); resp.StatusCode >= 400 {
		t.Errorf("token in the form: %d, want it accepted", resp.StatusCode)
	}
	big := url.Values{"csrf": {token}, "pad": {strings.Repeat("x", 100<<10)}}
	resp, _ := b.post("/language", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("100 KiB form: %d, want 413", resp.StatusCode)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("the 413 lacks %s", h)
		}
	}
}

// A fresh session costs nothing: 40 of them from one address may not make
// 40 Flinks calls. Landing pages (each mints an authorize token) and
// redirects (each starts a fetch) are bounded per IP, whatever the cookie.
func TestFreshSessionsCannotSpendTheFlinksQuota(t *testing.T) {
	t.Run("landing pages", func(t *testing.T) {
		app := newTestApp(t, func(c *Config) { c.RateLimits.TokenPerIP = Limit{PerMinute: 1, Burst: 5} })
		limited := 0
		for range 40 {
			if resp, _ := app.browser().get("/"); resp.StatusCode == http.StatusTooManyRequests {
				limited++
				if resp.Header.Get("Retry-After") == "" {
					t.Error("a 429 without Retry-After")
				}
			}
		}
		if n := app.tokens.n; n != 5 || limited != 35 {
			t.Errorf("40 fresh sessions minted %d tokens (%d refused), want 5 (35)", n, limited)
		}
	})
	t.Run("redirects", func(t *testing.T) {
		app := newTestApp(t, func(c *Config) {
			c.RateLimits.CallbackPerIP = Limit{PerMinute: 1, Burst: 5}
			c.RateLimits.TokenPerIP = Limit{PerMinute: 1, Burst: 100} // each session's landing page, for its tag
		})
		limited := 0
		for i := range 40 {
			b := app.browser()
			resp, _ := b.get(callbackPathFor(fmt.Sprintf("5602459c-f6d0-4ca0-6750-%012d", i), b.connectTag()))
			if resp.StatusCode == http.StatusTooManyRequests {
				limited++
			}
		}
		if n := app.fetcher.count(); n != 5 || limited != 35 {
			t.Errorf("40 fresh sessions started %d fetches (%d refused), want 5 (35)", n, limited)
		}
	})
}

// HEAD answers like GET, without a body, on the GET routes.
func TestHeadAnswersLikeGet(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	for _, p := range []string{"/healthz", "/", "/links", path, path + "/status", "/api" + path} {
		req, _ := http.NewRequest(http.MethodHead, app.srv.URL+p, nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD %s: %d with %d body bytes, want 200 and none", p, resp.StatusCode, len(body))
		}
	}
	if n := app.tokens.n; n != 1 {
		t.Errorf("%d authorize tokens minted; a HEAD of the landing page must not mint one (want only linkFor's)", n)
	}
}

// TestWrongMethodIs405: a method a route does not take is 405 with the
// methods it does take, not a CSRF refusal; a real route's POST without a
// token is still refused.
func TestWrongMethodIs405(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/api" + path},
		{http.MethodDelete, path},
		{http.MethodPut, "/links"},
		{http.MethodPost, "/healthz"},
	} {
		req, _ := http.NewRequest(tc.method, app.srv.URL+tc.path, nil)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "GET") {
			t.Errorf("%s %s: %d (Allow %q), want 405 naming GET", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+path+"/retry", nil)
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST retry without a token: %v %d, want 403", err, resp.StatusCode)
	}
}

// TestTextAnswersAreCompressed: a browser that accepts gzip gets the pages,
// fragments and scripts compressed; one that does not gets them as they are.
func TestTextAnswersAreCompressed(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	for _, p := range []string{"/", path, "/links"} {
		req, _ := http.NewRequest(http.MethodGet, app.srv.URL+p, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		zipped, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: Content-Encoding %q, Vary %q; want gzip", p, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Contains(plain, []byte("</html>")) || len(zipped) >= len(plain)/2 {
			t.Errorf("%s: %d bytes for %d of HTML (%v)", p, len(zipped), len(plain), err)
		}
	}
	// Without Accept-Encoding: as is.
	req, _ := http.NewRequest(http.MethodGet, app.srv.URL+"/links", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Contains(body, []byte("</html>")) {
		t.Errorf("identity: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
}
