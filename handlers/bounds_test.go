package handlers

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestOlderTransactionsArePaged: an account card shows its 10 most recent
// transactions; "Show all" lists every one, newest first, 50 to a page, with
// Newer and Older, and a way back to the card.
func TestOlderTransactionsArePaged(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	cents := int64(100)
	acct := store.Account{ID: "0d3e8c5a-aaaa-4bbb-8ccc-000000000001", Title: "Chequing", Type: "Chequing", Category: "Operations", Currency: "CAD", Current: &cents}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 120 {
		acct.Transactions = append(acct.Transactions, store.Transaction{ID: fmt.Sprintf("t%03d", i),
			Date: start.AddDate(0, 0, i).Format("2006-01-02"), Description: fmt.Sprintf("ROW %03d", i), Debit: &cents})
	}
	if err := app.db.CompleteFetch(t.Context(), id, 1, store.Snapshot{Institution: "FlinksCapital", Accounts: []store.Account{acct}}, store.NoteOf(store.NoteDataReceived, 1)); err != nil {
		t.Fatal(err)
	}
	descriptions := func(doc *goquery.Document) []string {
		var out []string
		doc.Find("[data-testid=transaction] .tx-desc").Each(func(_ int, s *goquery.Selection) { out = append(out, s.Text()) })
		return out
	}
	_, doc := b.get(path)
	if got := descriptions(doc); len(got) != 10 || got[0] != "ROW 119" {
		t.Fatalf("card shows %d transactions starting %v", len(got), got[:min(1, len(got))])
	}
	all, ok := doc.Find("[data-testid=all-transactions]").Attr("href")
	if !ok || !strings.Contains(doc.Find(".more").Text(), "110 older") {
		t.Fatalf("no way to the 110 older transactions: %q", doc.Find(".more").Text())
	}
	var seen []string
	for page := 1; all != ""; page++ {
		if page > 3 {
			t.Fatal("more than 3 pages of 50 for 120 transactions")
		}
		_, doc = b.get(all)
		got := descriptions(doc)
		seen = append(seen, got...)
		want := fmt.Sprintf("Transactions %d–%d of 120", (page-1)*50+1, min(page*50, 120))
		if paging := doc.Find("[data-testid=transactions-paging] span").Text(); paging != want {
			t.Errorf("page %d says %q, want %q", page, paging, want)
		}
		if (page > 1) != (doc.Find("[data-testid=transactions-newer]").Length() == 1) {
			t.Errorf("page %d: Newer shown = %v", page, page > 1)
		}
		if doc.Find("[data-testid=transactions-recent]").AttrOr("href", "") != path+"#acct-1" {
			t.Errorf("page %d: no way back to the recent transactions", page)
		}
		all = doc.Find("[data-testid=transactions-older]").AttrOr("href", "")
	}
	if len(seen) != 120 || seen[0] != "ROW 119" || seen[119] != "ROW 000" || len(slices.Compact(slices.Clone(seen))) != 120 {
		t.Errorf("paging showed %d transactions (%v … %v), want all 120 once, newest first", len(seen), seen[:1], seen[len(seen)-1:])
	}
	// Another account id, or a page out of range, shows something sensible.
	if resp, _ := b.get(path + "?tx=nope&tx_page=1"); resp.StatusCode != http.StatusOK {
		t.Errorf("unknown account: %d", resp.StatusCode)
	}
	if _, doc := b.get(path + "?tx=" + acct.ID + "&tx_page=999"); !strings.Contains(doc.Find("[data-testid=transactions-paging] span").Text(), "101–120") {
		t.Error("a page past the end does not show the last one")
	}
}
