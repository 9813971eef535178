package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"flinkslink/store"
)

func TestFrenchFromBrowserAndSwitch(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()

	_, doc := b.get("/", "Accept-Language", "fr-CA,fr;q=0.9")
	if lang, _ := doc.Find("html").Attr("lang"); lang != "fr" {
		t.Errorf("html lang %q, want fr", lang)
	}
	if h1 := doc.Find("h1").Text(); h1 != "Liez votre compte bancaire" {
		t.Errorf("French heading %q", h1)
	}

	// The switch goes back to English, and the choice sticks over Accept-Language.
	csrf, _ := doc.Find(`form[action="/language"] input[name=csrf]`).Attr("value")
	form := url.Values{"csrf": {csrf}, "lang": {"en"}, "next": {"/links"}}
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/language", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := b.do(req)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links" {
		t.Fatalf("switch: %d to %q, want 303 to /links", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc = b.get("/", "Accept-Language", "fr-CA")
	if lang, _ := doc.Find("html").Attr("lang"); lang != "en" {
		t.Errorf("after switching to English, html lang %q", lang)
	}
	src, _ := doc.Find("[data-testid=connect-iframe]").Attr("src")
	if u, _ := url.Parse(src); u.Query().Get("language") != "en" {
		t.Errorf("Connect language %q after the switch, want en", u.Query().Get("language"))
	}

	// An open redirect through next is not possible, and unknown languages are refused.
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil"} {
		_, doc = b.get("/")
		csrf, _ = doc.Find(`form[action="/language"] input[name=csrf]`).Attr("value")
		form = url.Values{"csrf": {csrf}, "lang": {"fr"}, "next": {next}}
		req, _ = http.NewRequest(http.MethodPost, app.srv.URL+"/language", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, _ := b.do(req); resp.Header.Get("Location") != "/" {
			t.Errorf("next=%q redirected to %q, want /", next, resp.Header.Get("Location"))
		}
	}
	form = url.Values{"csrf": {csrf}, "lang": {"de"}}
	req, _ = http.NewRequest(http.MethodPost, app.srv.URL+"/language", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, _ := b.do(req); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("lang=de: %d, want 400", resp.StatusCode)
	}
}

func TestFrenchSummaryAndErrors(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	tag := b.connectTag()
	fr := []string{"Accept-Language", "fr"}

	_, doc := b.get("/connect/callback?institution=FlinksCapital&tag="+tag, fr...)
	if msg := doc.Find("[data-testid=error-message]").Text(); !strings.Contains(msg, "ne contient pas le loginId") {
		t.Errorf("French error %q", msg)
	}

	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	link, _ := app.db.Link(t.Context(), id)
	cur := int64(123456789)
	if err := app.db.CompleteFetch(t.Context(), id, link.Fetch, store.Snapshot{
		Institution: "FlinksCapital", LastRefresh: time.Date(2025, 1, 31, 17, 40, 0, 0, time.UTC),
		Accounts: []store.Account{{ID: "a1", Title: "Chèques", Type: "Chequing", Currency: "CAD", Current: &cur,
			Transactions: []store.Transaction{{ID: "t1", Date: "2025-01-31", Description: "PAIE", Credit: &cur}}}},
	}, store.NoteOf(store.NoteDataReceived, 1)); err != nil {
		t.Fatal(err)
	}
	_, doc = b.get(path, fr...)
	if got := doc.Find("[data-testid=balance-current]").Text(); got != "1\u00a0234\u00a0567,89\u00a0$" {
		t.Errorf("French balance %q", got)
	}
	if got := doc.Find("[data-testid=transaction] time").Text(); got != "31 janv. 2025" {
		t.Errorf("French date %q", got)
	}
	if got := doc.Find("[data-testid=status-headline]").Text(); got != "Le résumé de vos comptes est prêt" {
		t.Errorf("French headline %q", got)
	}
}

func TestFormatMoneyFrench(t *testing.T) {
	for _, tc := range []struct {
		cents int64
		cur   string
		want  string
	}{
		{0, "CAD", "0,00\u00a0$"},
		{-4999, "CAD", "-49,99\u00a0$"},
		{100000, "USD", "1\u00a0000,00\u00a0$\u00a0US"},
	} {
		if got := formatMoney(tc.cents, tc.cur, "fr"); got != tc.want {
			t.Errorf("formatMoney(%d, %s, fr) = %q, want %q", tc.cents, tc.cur, got, tc.want)
		}
	}
}
