package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRedirectHandlerIsRateLimited(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	tag := b.connectTag()
	limited := 0
	for i := 0; i < DefaultRateLimits.Callback.Burst+5; i++ {
		resp, doc := b.get(callbackPathFor(testLoginID, tag))
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			if msg := doc.Find("[data-testid=error-message]").Text(); !strings.Contains(msg, "wait a minute") {
				t.Errorf("429 message %q does not say what to do", msg)
			}
		}
	}
	if limited == 0 {
		t.Fatal("no request was rate limited")
	}
	// Another browser is not affected by the first one's limit.
	other := app.browser()
	if resp, _ := other.get(callbackPathFor(testLoginID, other.connectTag())); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another session got %d, want 303", resp.StatusCode)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	for _, path := range []string{"/", "/links", "/links/doesnotexist0000000000", "/connect/callback", "/static/css/app.css", "/nope"} {
		resp, _ := b.get(path)
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'self'") {
			t.Errorf("%s: CSP %q", path, h.Get("Content-Security-Policy"))
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: X-Content-Type-Options %q Referrer-Policy %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
	}
}

func TestRequestBounds(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	// A body over the limit is refused before any handler reads it.
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+path+"/retry", strings.NewReader("csrf="+strings.Repeat("a", 100<<10)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := b.do(req); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", resp.StatusCode)
	}
	// Malformed link ids are a 404 without touching the database.
	for _, id := range []string{"%3Cscript%3E", strings.Repeat("a", 500), "..%2F..%2Fetc"} {
		if resp, _ := b.get("/links/" + id); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/links/%s: %d, want 404", id, resp.StatusCode)
		}
	}
	// Garbage Accept-Language still yields a page in a supported language.
	resp, doc := b.get("/", "Accept-Language", strings.Repeat("x;q=,", 200))
	src, _ := doc.Find("[data-testid=connect-iframe]").Attr("src")
	u, _ := url.Parse(src)
	if resp.StatusCode != http.StatusOK || u.Query().Get("language") != "en" {
		t.Errorf("garbage Accept-Language: %d, language=%q", resp.StatusCode, u.Query().Get("language"))
	}
}

func TestHTMXRetryCarriesCSRFHeader(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	link, _ := app.db.Link(t.Context(), id)
	if err := app.db.RecordState(t.Context(), id, link.Fetch, storeFailed("AGGREGATION_ERROR")); err != nil {
		t.Fatal(err)
	}
	_, doc := b.get(path)
	token, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content")
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+path+"/retry", nil)
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", token)
	resp, _ := b.do(req)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != path {
		t.Errorf("htmx retry: %d HX-Redirect %q, want 204 to %s", resp.StatusCode, resp.Header.Get("HX-Redirect"), path)
	}
	// A cross-site browser request is refused even with a token.
	req, _ = http.NewRequest(http.MethodPost, app.srv.URL+path+"/retry", nil)
	req.Header.Set("X-CSRF-Token", token)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := b.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site retry: %d, want 403", resp.StatusCode)
	}
}
