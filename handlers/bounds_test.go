package handlers

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"flinkslink/store"
)

// rawGet fetches path in b's session and returns the status and the raw body size.
func (b *browser) rawGet(path string) (int, []byte) {
	b.app.t.Helper()
	resp, err := b.c.Get(b.app.srv.URL + path)
	if err != nil {
		b.app.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// A login with 10,000 accounts once made an 11.5 MB fragment. The totals
// cover every account; the cards come 25 to a page, with links to the
// others, so each page stays small.
func TestTenThousandAccountsArePaged(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	cents := int64(100)
	snap := store.Snapshot{Institution: "FlinksCapital"}
	for i := range 10000 {
		snap.Accounts = append(snap.Accounts, store.Account{ID: fmt.Sprintf("acct-%05d", i), Title: fmt.Sprintf("Account %05d", i),
			Type: "Chequing", Category: "Operations", Currency: "CAD", Current: &cents})
	}
	if err := app.db.CompleteFetch(t.Context(), id, 1, snap, store.NoteOf(store.NoteDataReceived, len(snap.Accounts))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "/status"} {
		status, body := b.rawGet(p)
		if status != http.StatusOK || len(body) > 200<<10 {
			t.Errorf("%s: %d, %d bytes; want a page under 200 KB", p, status, len(body))
		}
	}
	_, doc := b.get(path)
	if n := doc.Find("[data-testid=account]").Length(); n != 25 {
		t.Errorf("first page shows %d account cards, want 25", n)
	}
	if got := doc.Find("[data-testid=totals] td").First().Text(); got != "10000" {
		t.Errorf("totals count %q accounts, want all 10000", got)
	}
	next, _ := doc.Find("[data-testid=accounts-next]").Attr("href")
	if next != path+"?accounts=2#summary" {
		t.Errorf("next page link %q", next)
	}
	_, last := b.get(path + "?accounts=400")
	cards := last.Find("[data-testid=account]")
	if cards.Length() != 25 || !strings.Contains(cards.Last().Text(), "Account 09999") || last.Find("[data-testid=accounts-next]").Length() != 0 {
		t.Errorf("the last page shows %d cards ending %q", cards.Length(), cards.Last().Find("h3").Text())
	}
	if got := last.Find("[data-testid=accounts-paging] span").Text(); got != "Accounts 9976–10000 of 10000" {
		t.Errorf("paging says %q", got)
	}
	_, beyond := b.get(path + "?accounts=99999")
	if beyond.Find("[data-testid=account]").Length() != 25 {
		t.Error("a page past the end does not show the last page")
	}
}

// A long stored answer is shown inline only in part; its download has it all.
func TestLongBodiesAreClippedOnThePage(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	body := []byte(`{"HttpStatusCode":200,"Pad":"` + strings.Repeat("é", 100<<10) + `"}`)
	if err := app.db.RecordCall(t.Context(), id, 1, store.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", StatusCode: 200, Body: body}); err != nil {
		t.Fatal(err)
	}
	status, page := b.rawGet(path)
	if status != http.StatusOK || len(page) > 100<<10 {
		t.Errorf("link page: %d, %d bytes; want under 100 KB with a 200 KB answer", status, len(page))
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(page)))
	if doc.Find("[data-testid=call-body-clipped]").Length() != 1 {
		t.Error("the clipped answer does not say so")
	}
	href, _ := doc.Find("[data-testid=call-download]").Attr("href")
	if _, full := b.rawGet(href); len(full) < len(body) {
		t.Errorf("the download has %d bytes, want the whole %d", len(full), len(body))
	}
}
