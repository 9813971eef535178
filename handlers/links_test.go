package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"flinkslink/flinks"
	"flinkslink/flinks/flinkstest"
	"flinkslink/store"
	"flinkslink/views"
)

// fakeCards records DeleteCard calls and answers err.
type fakeCards struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeCards) DeleteCard(_ context.Context, loginID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, loginID)
	return f.err
}

func (f *fakeCards) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeCards) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// fakePending records the sandbox's pending overrides, and the tags they were for.
type fakePending struct {
	mu    sync.Mutex
	calls []string // "nil" or the duration
	tags  []string
}

func (f *fakePending) SetPendingOverrideFor(tag string, d *time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tags = append(f.tags, tag)
	if d == nil {
		f.calls = append(f.calls, "nil")
		return
	}
	f.calls = append(f.calls, d.String())
}

func (f *fakePending) lastTag() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.tags) == 0 {
		return ""
	}
	return f.tags[len(f.tags)-1]
}

func (f *fakePending) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// LoginIds for tests that need several links in one session.
const (
	loginA = "11111111-1111-4111-8111-111111111111"
	loginB = "22222222-2222-4222-8222-222222222222"
	loginC = "33333333-3333-4333-8333-333333333333"
	loginD = "44444444-4444-4444-8444-444444444444"
)

// csrf returns the CSRF token the app's pages give this browser.
func (b *browser) csrf() string {
	b.app.t.Helper()
	_, doc := b.get("/links")
	token, _ := doc.Find("meta[name=csrf-token]").Attr("content")
	if token == "" {
		b.app.t.Fatal("no csrf-token meta on /links")
	}
	return token
}

// post submits a form. header pairs are added (e.g. "HX-Request", "true").
func (b *browser) post(path string, form url.Values, header ...string) (*http.Response, *goquery.Document) {
	b.app.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// finish moves a link's current fetch to a terminal state: ready (with a
// snapshot), failed with code, or timed_out.
func (a *testApp) finish(path string, state store.State, code string) {
	a.t.Helper()
	id := strings.TrimPrefix(path, "/links/")
	ctx := a.t.Context()
	link, err := a.db.Link(ctx, id)
	if err != nil {
		a.t.Fatal(err)
	}
	switch state {
	case store.StateReady:
		cur := int64(123456)
		err = a.db.CompleteFetch(ctx, id, link.Fetch, store.Snapshot{
			Institution: "FlinksCapital", HolderName: "John Doe",
			Accounts: []store.Account{{ID: "acc-1", Title: "Chequing", Last4: "1238", Type: "Chequing", Category: "Operations", Currency: "CAD", Current: &cur}},
		}, store.NoteOf(store.NoteDataReceived, 1))
	case store.StatePending:
		err = a.db.RecordState(ctx, id, link.Fetch, store.StateUpdate{State: store.StatePending, RequestID: "r1", Polls: 1})
	default:
		err = a.db.RecordState(ctx, id, link.Fetch, store.StateUpdate{State: state, ErrorCode: code, ErrorMessage: "test"})
	}
	if err != nil {
		a.t.Fatal(err)
	}
}

// postRow and getRow fetch a list row's htmx fragment: a bare <tr>, parsed
// inside a table as a browser's template element would.
func (b *browser) getRow(path string) (*http.Response, *goquery.Selection) {
	b.app.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.srv.URL+path, nil)
	req.Header.Set("HX-Request", "true")
	return b.doRow(req)
}

func (b *browser) postRow(path, csrf string) (*http.Response, *goquery.Selection) {
	b.app.t.Helper()
	form := url.Values{"return": {"list"}}
	req, _ := http.NewRequest(http.MethodPost, b.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", csrf)
	return b.doRow(req)
}

func (b *browser) doRow(req *http.Request) (*http.Response, *goquery.Selection) {
	b.app.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.app.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + string(body) + "</tbody></table>"))
	if err != nil {
		b.app.t.Fatal(err)
	}
	return resp, doc.Find("[data-testid=link-row]")
}

func rowFor(doc *goquery.Document, path string) *goquery.Selection {
	return doc.Find("[data-testid=link-row]").FilterFunction(func(_ int, s *goquery.Selection) bool {
		href, _ := s.Find("[data-testid=row-institution]").Attr("href")
		return href == path
	})
}

func TestLinksListShowsRowsWithBadgesAndActionsPerState(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	pending, ready, failed, timedOut := b.linkFor(loginA), b.linkFor(loginB), b.linkFor(loginC), b.linkFor(loginD)
	app.finish(pending, store.StatePending, "")
	app.finish(ready, store.StateReady, "")
	app.finish(failed, store.StateFailed, "RETRY_LATER")
	app.finish(timedOut, store.StateTimedOut, "")

	resp, doc := b.get("/links")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := doc.Find("[data-testid=link-row]").Length(); n != 4 {
		t.Fatalf("%d rows, want 4", n)
	}
	for _, tc := range []struct {
		path, badge             string
		refresh, retry, deletes string // "enabled", "disabled" or "" (absent)
		polls                   bool
	}{
		{pending, "Pending", "disabled", "", "", true}, // Stop instead, see below
		{ready, "Ready", "enabled", "", "enabled", false},
		{failed, "Failed", "", "enabled", "enabled", false},
		{timedOut, "Timed out", "", "enabled", "enabled", false},
	} {
		row := rowFor(doc, tc.path)
		if row.Length() != 1 {
			t.Errorf("%s: no row", tc.path)
			continue
		}
		if got := row.Find("[data-testid=row-badge]").Text(); got != tc.badge {
			t.Errorf("%s: badge %q, want %q", tc.path, got, tc.badge)
		}
		if got := row.Find("td time").First().AttrOr("title", ""); !strings.HasSuffix(got, "Z") {
			t.Errorf("%s: created time's tooltip %q is not the exact time", tc.path, got)
		}
		if href := row.Find("[data-testid=row-open]").AttrOr("href", ""); href != tc.path {
			t.Errorf("%s: Open goes to %q", tc.path, href)
		}
		state := func(testid string) string {
			el := row.Find("[data-testid=" + testid + "]")
			switch {
			case el.Length() == 0:
				return ""
			case el.Is("[disabled]"):
				return "disabled"
			}
			return "enabled"
		}
		if got := state("row-refresh"); got != tc.refresh {
			t.Errorf("%s: Refresh data is %q, want %q", tc.path, got, tc.refresh)
		}
		if got := state("row-retry"); got != tc.retry {
			t.Errorf("%s: Try again is %q, want %q", tc.path, got, tc.retry)
		}
		if got := state("row-delete"); got != tc.deletes {
			t.Errorf("%s: Delete is %q, want %q", tc.path, got, tc.deletes)
		}
		if _, polls := row.Attr("hx-get"); polls != tc.polls {
			t.Errorf("%s: row polls=%v, want %v", tc.path, polls, tc.polls)
		}
	}
	if rowFor(doc, pending).Find("[data-testid=row-stop]").Length() != 1 || rowFor(doc, ready).Find("[data-testid=row-stop]").Length() != 0 {
		t.Error("Stop is not offered exactly on the running row")
	}
	// Rows can be told apart: the institution as Flinks writes it, and for
	// data, its holder, how many accounts and what they hold.
	readyRow := rowFor(doc, ready)
	if got := readyRow.Find("[data-testid=row-institution]").Text(); got != "Flinks Capital" {
		t.Errorf("institution %q, want Flinks Capital", got)
	}
	if got := strings.Join(strings.Fields(readyRow.Find("[data-testid=row-facts]").Text()), " "); got != "John Doe 1 account $1,234.56 in deposit accounts" {
		t.Errorf("ready row's facts %q", got)
	}
	if n := rowFor(doc, pending).Find("[data-testid=row-facts]").Length(); n != 0 {
		t.Error("a pending row without data shows facts")
	}
	if href := rowFor(doc, ready).Find("a[data-testid=row-delete]").AttrOr("href", ""); href != ready+"/delete" {
		t.Errorf("Delete goes to %q, want the confirmation page", href)
	}
	if doc.Find("[data-testid=start-over]").Length() != 1 {
		t.Error("no Start over")
	}

	// The pending row's fragment follows the link: once ready, it stops polling.
	rowURL, _ := rowFor(doc, pending).Attr("hx-get")
	_, frag := b.getRow(rowURL)
	if got, _ := frag.Attr("data-state"); got != "pending" {
		t.Errorf("row fragment state %q", got)
	}
	app.db.CompleteFetch(t.Context(), strings.TrimPrefix(pending, "/links/"), 1, store.Snapshot{Institution: "FlinksCapital"}, store.NoteOf(store.NoteDataReceived, 0))
	_, row := b.getRow(rowURL)
	if got := row.Find("[data-testid=row-badge]").Text(); got != "Ready" {
		t.Errorf("row fragment after ready: badge %q", got)
	}
	if _, polls := row.Attr("hx-get"); polls {
		t.Error("a ready row still polls")
	}

	// Another browser sees none of them, nor their rows.
	other := app.browser()
	if _, doc := other.get("/links"); doc.Find("[data-testid=no-links]").Length() != 1 || doc.Find("[data-testid=link-row]").Length() != 0 {
		t.Error("another browser sees this browser's links")
	}
	if resp, _ := other.get(rowURL, "HX-Request", "true"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another browser's row fragment: %d, want 404", resp.StatusCode)
	}
}

func TestRefreshStartsAFetchAndIsRefusedWhileOneRuns(t *testing.T) {
	// More refreshes than a person makes in a minute (TestRefreshIsRateLimited checks the limit).
	app := newTestApp(t, func(c *Config) { c.RateLimits.Refresh = Limit{PerMinute: 600, Burst: 100} })
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	csrf := b.csrf()

	// The link page offers Refresh data only once there is data, disabled while a fetch runs.
	if _, doc := b.get(path); doc.Find("[data-testid=refresh]").Length() != 0 {
		t.Error("Refresh data shown before any data")
	}
	app.finish(path, store.StateReady, "")
	_, doc := b.get(path)
	btn := doc.Find("#link-status [data-testid=refresh]")
	if btn.Length() != 1 || btn.Is("[disabled]") {
		t.Fatalf("ready link page: Refresh data missing or disabled (%d)", btn.Length())
	}

	// Without the CSRF token nothing starts.
	before := app.fetcher.count()
	if resp, _ := b.post(path+"/refresh", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("refresh without token: %d, want 403", resp.StatusCode)
	}
	// htmx, from the link page: the status element comes back pending, polling,
	// the earlier summary still shown, Refresh disabled.
	resp, doc := b.post(path+"/refresh", url.Values{"return": {"link"}}, "HX-Request", "true", "X-CSRF-Token", csrf)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("htmx refresh: %d", resp.StatusCode)
	}
	st := doc.Find("#link-status")
	if got, _ := st.Attr("data-state"); got != "received" {
		t.Errorf("after refresh: data-state %q, want received", got)
	}
	if _, ok := st.Attr("hx-get"); !ok {
		t.Error("after refresh the status does not poll")
	}
	if doc.Find("[data-testid=summary]").Length() != 1 {
		t.Error("the earlier summary disappeared during the refresh")
	}
	if !doc.Find("[data-testid=refresh]").Is("[disabled]") {
		t.Error("Refresh data is enabled while the fetch runs")
	}
	if note := doc.Find(".note").Text(); !strings.Contains(note, "Showing the data received") {
		t.Errorf("no note that the data shown is the earlier one: %q", note)
	}
	if app.fetcher.count() != before+1 {
		t.Errorf("fetches started %d, want %d", app.fetcher.count(), before+1)
	}
	link, _ := app.db.Link(t.Context(), id)
	if link.Fetch != 2 || link.State != store.StateReceived {
		t.Errorf("after refresh: fetch %d state %s, want 2 received", link.Fetch, link.State)
	}

	// While it runs, another refresh is refused with 409 and starts nothing.
	resp, doc = b.post(path+"/refresh", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("refresh while running: %d, want 409", resp.StatusCode)
	}
	if msg := doc.Find("[data-testid=error-message]").Text(); !strings.Contains(msg, "already running") {
		t.Errorf("409 message %q", msg)
	}
	if app.fetcher.count() != before+1 {
		t.Error("a refresh while running started a fetch")
	}
	// On the page the button is disabled meanwhile.
	if _, doc := b.get(path); !doc.Find("[data-testid=refresh]").Is("[disabled]") {
		t.Error("link page: Refresh data enabled while the fetch runs")
	}

	// From the list without JavaScript: back to the list; with htmx: the row.
	app.finish(path, store.StateReady, "")
	resp, _ = b.post(path+"/refresh", url.Values{"csrf": {csrf}, "return": {"list"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links" {
		t.Errorf("list refresh: %d to %q, want 303 to /links", resp.StatusCode, resp.Header.Get("Location"))
	}
	app.finish(path, store.StateReady, "")
	_, row := b.postRow(path+"/refresh", csrf)
	if got, _ := row.Attr("data-state"); got != "received" || !row.Find("[data-testid=row-refresh]").Is("[disabled]") {
		t.Errorf("htmx list refresh: row state %q, refresh disabled=%v", got, row.Find("[data-testid=row-refresh]").Is("[disabled]"))
	}

	// Another browser cannot refresh it.
	other := app.browser()
	if resp, _ := other.post(path+"/refresh", url.Values{"csrf": {other.csrf()}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("foreign refresh: %d, want 404", resp.StatusCode)
	}
}

func TestRefreshIsRateLimited(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	csrf := b.csrf()
	var statuses []int
	for range DefaultRateLimits.Refresh.Burst + 2 {
		if link, _ := app.db.Link(t.Context(), strings.TrimPrefix(path, "/links/")); !link.State.Terminal() {
			app.finish(path, store.StateReady, "")
		}
		resp, _ := b.post(path+"/refresh", url.Values{"csrf": {csrf}})
		statuses = append(statuses, resp.StatusCode)
	}
	if last := statuses[len(statuses)-1]; last != http.StatusTooManyRequests {
		t.Errorf("statuses %v: the last refresh was not rate limited", statuses)
	}
}

func TestDeleteCallsDeleteCardThenRemovesTheLink(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	app.finish(path, store.StateReady, "")

	// The confirmation page says what happens, including to other sessions.
	resp, doc := b.get(path + "/delete")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirmation page: %d", resp.StatusCode)
	}
	explain := doc.Find("[data-testid=delete-explain]").Text()
	for _, want := range []string{"DeleteCard", "another browser or session", "cannot be undone"} {
		if !strings.Contains(explain, want) {
			t.Errorf("confirmation lacks %q: %q", want, explain)
		}
	}
	form := doc.Find("[data-testid=confirm-delete]").Closest("form")
	csrf := form.Find("input[name=csrf]").AttrOr("value", "")
	if form.AttrOr("action", "") != path+"/delete" || form.AttrOr("method", "") != "post" || csrf == "" {
		t.Fatalf("confirmation form: action %q method %q csrf %q", form.AttrOr("action", ""), form.AttrOr("method", ""), csrf)
	}
	if doc.Find("[data-testid=confirm-delete]").Is("[disabled]") {
		t.Error("confirm button disabled for a ready link")
	}
	if len(app.cards.called()) != 0 {
		t.Fatal("the confirmation page called DeleteCard")
	}

	resp, _ = b.post(path+"/delete", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links?done=deleted" {
		t.Fatalf("delete: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := app.cards.called(); len(got) != 1 || got[0] != testLoginID {
		t.Errorf("DeleteCard calls %v, want [%s]", got, testLoginID)
	}
	// Its page says it was deleted (410), in this browser; elsewhere it is
	// not found, like any link of another browser.
	if resp, doc := b.get(path); resp.StatusCode != http.StatusGone || !strings.Contains(doc.Find("h1").Text(), "deleted") {
		t.Errorf("deleted link page: %d %q, want 410 saying it was deleted", resp.StatusCode, doc.Find("h1").Text())
	}
	if resp, _ := app.browser().get(path); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleted link page in another browser: %d, want 404", resp.StatusCode)
	}
	if links, _ := app.db.LinksByLoginID(t.Context(), testLoginID); len(links) != 0 {
		t.Errorf("%d links left in the database", len(links))
	}
	_, doc = b.get("/links?done=deleted")
	if notice := doc.Find("[data-testid=notice]").Text(); !strings.Contains(notice, "deleted") {
		t.Errorf("notice %q", notice)
	}
}

func TestDeleteKeepsTheLinkWhenFlinksDoesNotConfirm(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"server error", &flinks.Error{Endpoint: "DeleteCard", StatusCode: 500, FlinksCode: "AGGREGATION_ERROR", Message: "An unexpected error occurred"}, http.StatusBadGateway, "AGGREGATION_ERROR"},
		{"HTML error page", &flinks.Error{Endpoint: "DeleteCard", StatusCode: 503, Message: "Service Unavailable"}, http.StatusBadGateway, "HTTP_503"},
		{"network", fmt.Errorf("flinks: DeleteCard: %w", &flinks.TransportError{Err: errors.New("connection refused")}), http.StatusBadGateway, "NETWORK"},
		{"card in use", &flinks.Error{Endpoint: "DeleteCard", StatusCode: 400, FlinksCode: "CARD_IN_USE", Message: "The card is currently being processed"}, http.StatusConflict, "CARD_IN_USE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			b := app.browser()
			path := b.linkFor(testLoginID)
			app.finish(path, store.StateReady, "")
			app.cards.fail(tc.err)
			resp, doc := b.post(path+"/delete", url.Values{"csrf": {b.csrf()}})
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			msg := doc.Find("[data-testid=error-message]").Text()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "kept") {
				t.Errorf("message %q should name %s and say the link is kept", msg, tc.want)
			}
			if strings.Contains(msg, testLoginID) {
				t.Error("the error page shows the LoginId")
			}
			if resp, doc := b.get(path); resp.StatusCode != http.StatusOK || doc.Find("[data-testid=summary]").Length() != 1 {
				t.Errorf("after a failed delete the link page answers %d without its summary", resp.StatusCode)
			}
		})
	}
}

func TestDeleteRemovesLocallyWhenFlinksNoLongerKnowsTheLoginID(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID)
	app.finish(path, store.StateFailed, "INVALID_LOGIN")
	app.cards.fail(&flinks.Error{Endpoint: "DeleteCard", StatusCode: 404, FlinksCode: "INVALID_LOGIN", Message: "Invalid LoginId"})
	resp, _ := b.post(path+"/delete", url.Values{"csrf": {b.csrf()}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/links?done=deleted_local" {
		t.Fatalf("delete: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get(path); resp.StatusCode != http.StatusGone {
		t.Errorf("link page after delete: %d, want 410 (deleted)", resp.StatusCode)
	}
	_, doc := b.get("/links?done=deleted_local")
	if notice := doc.Find("[data-testid=notice]").Text(); !strings.Contains(notice, "already been deleted") {
		t.Errorf("notice %q", notice)
	}
}

func TestDeleteIsRefusedWhileAFetchRuns(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	path := b.linkFor(testLoginID) // received: the fetch runs
	_, doc := b.get(path + "/delete")
	if doc.Find("[data-testid=delete-blocked]").Length() != 1 || !doc.Find("[data-testid=confirm-delete]").Is("[disabled]") {
		t.Error("confirmation page of a running link: no explanation or the button is enabled")
	}
	resp, doc := b.post(path+"/delete", url.Values{"csrf": {b.csrf()}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("delete while running: %d, want 409", resp.StatusCode)
	}
	if msg := doc.Find("[data-testid=error-message]").Text(); !strings.Contains(msg, "fetch is running") {
		t.Errorf("409 message %q", msg)
	}
	if len(app.cards.called()) != 0 {
		t.Error("DeleteCard was called while the fetch ran")
	}
	if resp, _ := b.get(path); resp.StatusCode != http.StatusOK {
		t.Errorf("link gone after a refused delete: %d", resp.StatusCode)
	}
}

func TestDeleteOfAnotherSessionsLinkIs404(t *testing.T) {
	app := newTestApp(t)
	owner := app.browser()
	path := owner.linkFor(testLoginID)
	app.finish(path, store.StateReady, "")
	other := app.browser()
	if resp, _ := other.get(path + "/delete"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("foreign confirmation page: %d, want 404", resp.StatusCode)
	}
	if resp, _ := other.post(path+"/delete", url.Values{"csrf": {other.csrf()}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("foreign delete: %d, want 404", resp.StatusCode)
	}
	if len(app.cards.called()) != 0 {
		t.Error("a foreign delete called DeleteCard")
	}
	if resp, _ := owner.get(path); resp.StatusCode != http.StatusOK {
		t.Errorf("owner's link after a foreign delete: %d", resp.StatusCode)
	}
}

func TestStartOverHidesOldLinks(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	oldTag := b.connectTag()
	path := b.linkFor(testLoginID)
	csrf := b.csrf()
	// The language chosen with the switch survives starting over.
	b.post("/language", url.Values{"csrf": {csrf}, "lang": {"fr"}, "next": {"/links"}})

	if resp, _ := b.post("/start-over", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("start over without token: %d, want 403", resp.StatusCode)
	}
	resp, _ := b.post("/start-over", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("start over: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc := b.get("/links")
	if doc.Find("[data-testid=link-row]").Length() != 0 || doc.Find("[data-testid=no-links]").Length() != 1 {
		t.Error("old links still listed after starting over")
	}
	if lang := doc.Find("html").AttrOr("lang", ""); lang != "fr" {
		t.Errorf("language after starting over: %q, want fr", lang)
	}
	if resp, _ := b.get(path); resp.StatusCode != http.StatusNotFound {
		t.Errorf("old link page: %d, want 404", resp.StatusCode)
	}
	if tag := b.connectTag(); tag == oldTag || tag == "" {
		t.Errorf("Connect tag not renewed: %q", tag)
	}
	// The old link is not deleted: nothing was asked of Flinks.
	if links, _ := app.db.LinksByLoginID(t.Context(), testLoginID); len(links) != 1 || len(app.cards.called()) != 0 {
		t.Errorf("start over deleted data: %d links, DeleteCard %v", len(links), app.cards.called())
	}
	// htmx (with its confirmation) gets a client-side redirect.
	resp, _ = b.post("/start-over", nil, "HX-Request", "true", "X-CSRF-Token", csrf)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != "/" {
		t.Errorf("htmx start over: %d HX-Redirect %q", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
}

func sandboxApp(t *testing.T, sb *fakePending) *testApp {
	return newTestApp(t, func(c *Config) {
		c.Sandbox = true
		c.SandboxPending = sb
		c.Scenarios = []views.ScenarioView{
			{Username: "Greatday", Password: "Everyday", Summary: "Security question first", MFAAnswers: []string{"Canada", "Montreal", "Triangle"}},
			{Username: "test_slow", Password: "Everyday", Summary: "Data pending ~60 s"},
		}
	})
}

func TestScenarioCardListsUsersWithCopyButtons(t *testing.T) {
	app := sandboxApp(t, &fakePending{})
	b := app.browser()
	_, doc := b.get("/")
	card := doc.Find("[data-testid=scenario-card]")
	if card.Length() != 1 {
		t.Fatal("no scenario card in sandbox mode")
	}
	copies := map[string]bool{}
	card.Find("button[data-copy]").Each(func(_ int, s *goquery.Selection) {
		copies[s.AttrOr("data-copy", "")] = true
		if s.AttrOr("type", "") != "button" || !strings.HasPrefix(s.AttrOr("aria-label", ""), "Copy ") {
			t.Errorf("copy button %q: type %q aria-label %q", s.AttrOr("data-copy", ""), s.AttrOr("type", ""), s.AttrOr("aria-label", ""))
		}
	})
	for _, want := range []string{"Greatday", "test_slow", "Everyday", "Montreal", "Canada", "Triangle"} {
		if !copies[want] {
			t.Errorf("no copy button for %q (have %v)", want, copies)
		}
	}
	greatday := card.Find("[data-username=Greatday]")
	if got := greatday.Find("[data-testid=scenario-summary]").Text(); got != "Security question first" {
		t.Errorf("English summary %q", got)
	}
	if card.Find("[data-username=test_slow] [data-testid=scenario-mfa]").Length() != 0 {
		t.Error("a user without MFA shows MFA answers")
	}
	// Not in sandbox mode: no card, no control.
	plain := newTestApp(t)
	if _, doc := plain.browser().get("/"); doc.Find("[data-testid=scenario-card], [data-testid=pending-control]").Length() != 0 {
		t.Error("scenario card shown without the sandbox")
	}
}

func TestPendingControlSetsTheSandboxOverride(t *testing.T) {
	sb := &fakePending{}
	app := sandboxApp(t, sb)
	b := app.browser()
	_, doc := b.get("/")
	ctl := doc.Find("[data-testid=pending-control]")
	if ctl.Length() != 1 {
		t.Fatal("no pending control on the scenario card")
	}
	if got := ctl.Find("input[name=pending][checked]").AttrOr("value", ""); got != "default" {
		t.Errorf("initially selected %q, want default", got)
	}
	if got := ctl.Find("[data-testid=pending-current]").Text(); !strings.Contains(got, "each user's own time") || !strings.Contains(got, "this browser") {
		t.Errorf("current setting %q", got)
	}
	action := ctl.AttrOr("action", "")
	csrf := ctl.Find("input[name=csrf]").AttrOr("value", "")

	if resp, _ := b.post(action, url.Values{"pending": {"5s"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without CSRF token: %d, want 403", resp.StatusCode)
	}
	for _, tc := range []struct{ value, want string }{
		{"5s", "5s"}, {"0s", "0s"}, {"30s", "30s"}, {"2m", "2m0s"}, {"never", "-1ns"}, {"default", "nil"},
	} {
		resp, _ := b.post(action, url.Values{"csrf": {csrf}, "pending": {tc.value}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: %d, want 303", tc.value, resp.StatusCode)
		}
		calls := sb.called()
		if len(calls) == 0 || calls[len(calls)-1] != tc.want {
			t.Errorf("%s: SetPendingOverride calls %v, want last %s", tc.value, calls, tc.want)
		}
	}
	// The page shows the setting in effect.
	b.post(action, url.Values{"csrf": {csrf}, "pending": {"30s"}})
	_, doc = b.get("/")
	if got := doc.Find("input[name=pending][checked]").AttrOr("value", ""); got != "30s" {
		t.Errorf("after choosing 30 s the page selects %q", got)
	}
	// The choice is this browser's: it is set for this browser's Connect tag
	// only, and another browser sees the default and sets its own tag.
	tagA := sb.lastTag()
	if tagA == "" || !strings.Contains(doc.Find("#flinks-connect").AttrOr("src", ""), "tag="+tagA) {
		t.Errorf("override set for tag %q; the page's Connect uses %s", tagA, doc.Find("#flinks-connect").AttrOr("src", ""))
	}
	other := app.browser()
	_, odoc := other.get("/")
	if got := odoc.Find("input[name=pending][checked]").AttrOr("value", ""); got != "default" {
		t.Errorf("another browser sees %q, want default", got)
	}
	if tagB := sb.lastTag(); tagB == tagA || sb.called()[len(sb.called())-1] != "nil" {
		t.Errorf("another browser's page set %v for tag %q (A's is %q), want its own default", sb.called()[len(sb.called())-1], tagB, tagA)
	}
	// htmx gets the control back, saying it was saved.
	resp, doc := b.post(action, url.Values{"pending": {"never"}}, "HX-Request", "true", "X-CSRF-Token", csrf)
	if resp.StatusCode != http.StatusOK || !strings.Contains(doc.Find("[data-testid=pending-current]").Text(), "Saved") {
		t.Errorf("htmx answer %d: %q", resp.StatusCode, doc.Find("[data-testid=pending-current]").Text())
	}

	// Anything else is refused and the sandbox is not touched.
	n := len(sb.called())
	for _, bad := range []string{"7s", "", "-1s", "1h"} {
		resp, doc := b.post(action, url.Values{"csrf": {csrf}, "pending": {bad}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: %d, want 400", bad, resp.StatusCode)
		}
		if msg := doc.Find("[data-testid=error-message]").Text(); !strings.Contains(msg, "Choose one") {
			t.Errorf("%q: message %q", bad, msg)
		}
	}
	if len(sb.called()) != n {
		t.Error("an invalid value reached the sandbox")
	}

	// The time limit: 30 s goes with the links this browser makes from now on.
	if resp, _ := b.post(action, url.Values{"csrf": {csrf}, "pending": {"never"}, "limit": {"30s"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("limit 30s: %d", resp.StatusCode)
	}
	_, doc = b.get("/")
	if got := doc.Find("input[name=limit][checked]").AttrOr("value", ""); got != "30s" {
		t.Errorf("after choosing a 30 s limit the page selects %q", got)
	}
	if got := doc.Find("[data-testid=limit-default]").Parent().Text(); !strings.Contains(got, "FLINKS_POLL_TIMEOUT") {
		t.Errorf("the default limit reads %q, want it named", got)
	}
	qa := b.linkFor(loginB)
	if l, _ := app.db.Link(t.Context(), strings.TrimPrefix(qa, "/links/")); l.TimeLimit != 30*time.Second {
		t.Errorf("a link made after choosing 30 s has time limit %v", l.TimeLimit)
	}
	if resp, _ := b.post(action, url.Values{"csrf": {csrf}, "pending": {"never"}, "limit": {"5m"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown limit: %d, want 400", resp.StatusCode)
	}

	// Without the sandbox the route does not exist.
	plain := newTestApp(t)
	pb := plain.browser()
	if resp, _ := pb.post(action, url.Values{"csrf": {pb.csrf()}, "pending": {"5s"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("without the sandbox: %d, want 404", resp.StatusCode)
	}
}

func TestLongerThanUsualAppearsAfterTheThresholdAndPollingContinues(t *testing.T) {
	const threshold = 45 * time.Second
	// The handlers' clock is set from the fetch's start as the store saw it.
	clock := flinkstest.NewClock(time.Time{})
	app := newTestApp(t, func(c *Config) { c.LongerThanUsual = threshold; c.Now = clock.Now })
	b := app.browser()
	path := b.linkFor(testLoginID)
	app.finish(path, store.StatePending, "")
	link, err := app.db.Link(t.Context(), strings.TrimPrefix(path, "/links/"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(link.FetchStartedAt)

	clock.Advance(threshold - time.Second)
	_, doc := b.get(path+"/status", "HX-Request", "true")
	if doc.Find("[data-testid=longer-than-usual]").Length() != 0 {
		t.Error("longer-than-usual shown before the threshold")
	}
	clock.Advance(2 * time.Second)
	_, doc = b.get(path+"/status", "HX-Request", "true")
	note := doc.Find("[data-testid=longer-than-usual]").Text()
	if !strings.Contains(note, "taking longer than usual") || !strings.Contains(note, "many transactions") {
		t.Errorf("after the threshold: note %q", note)
	}
	st := doc.Find("#link-status")
	if _, ok := st.Attr("hx-get"); !ok || st.AttrOr("data-state", "") != "pending" {
		t.Error("the status stopped polling when it became slow")
	}
	// At the cap, the timed-out view replaces it.
	app.db.RecordState(t.Context(), strings.TrimPrefix(path, "/links/"), 1, store.StateUpdate{State: store.StateTimedOut, ErrorCode: "TIMED_OUT"})
	_, doc = b.get(path+"/status", "HX-Request", "true")
	if doc.Find("[data-testid=longer-than-usual]").Length() != 0 {
		t.Error("longer-than-usual shown on the timed-out view")
	}
	if got := doc.Find("[data-testid=failure-code]").Text(); got != "TIMED_OUT" {
		t.Errorf("timed-out view code %q", got)
	}
	// TIMED_OUT is our limit, not Flinks' answer: labelled ours, not linked to Flinks' docs.
	if code := doc.Find("p.code"); !strings.Contains(code.Text(), "This app's code") || code.Find("a").Length() != 0 {
		t.Errorf("timed-out code line %q (%d links); want it labelled as ours, without Flinks' docs", code.Text(), code.Find("a").Length())
	}
	if _, ok := doc.Find("#link-status").Attr("hx-get"); ok {
		t.Error("the timed-out view still polls")
	}

	// The default threshold is 45 s: a fresh link does not say it.
	app2 := newTestApp(t)
	b2 := app2.browser()
	p2 := b2.linkFor(testLoginID)
	if _, doc := b2.get(p2); doc.Find("[data-testid=longer-than-usual]").Length() != 0 {
		t.Error("longer-than-usual shown at once with the default threshold")
	}
}

func TestLinksFeatureSpeaksFrench(t *testing.T) {
	app := newTestApp(t, func(c *Config) {
		c.LongerThanUsual = time.Millisecond
		c.Sandbox = true
		c.SandboxPending = &fakePending{}
		c.Scenarios = []views.ScenarioView{{Username: "test_slow", Password: "Everyday", Summary: "Data pending ~60 s"}}
	})
	b := app.browser()
	fr := []string{"Accept-Language", "fr-CA,fr;q=0.9"}
	ready, running := b.linkFor(loginA), b.linkFor(loginB)
	app.finish(ready, store.StateReady, "")
	app.finish(running, store.StatePending, "")
	time.Sleep(5 * time.Millisecond)

	_, doc := b.get("/links", fr...)
	readyRow := rowFor(doc, ready)
	for sel, want := range map[string]string{
		"[data-testid=row-refresh]": "Relire les données enregistrées",
		"[data-testid=row-badge]":   "Prêt",
		"[data-testid=start-over]":  "Recommencer",
		"[data-testid=row-open]":    "Ouvrir",
	} {
		if got := readyRow.Find(sel).Text() + doc.Find(".page-actions "+sel).Text(); !strings.Contains(got, want) {
			t.Errorf("/links %s: %q, want %q", sel, got, want)
		}
	}
	_, doc = b.get(ready+"/delete", fr...)
	if got := doc.Find("[data-testid=delete-explain]").Text(); !strings.Contains(got, "un autre navigateur") {
		t.Errorf("delete page in French: %q", got)
	}
	_, doc = b.get(ready, fr...)
	if got := doc.Find("[data-testid=refresh]").Text(); got != "Relire les données enregistrées" {
		t.Errorf("link page refresh %q", got)
	}
	_, doc = b.get(running, fr...)
	if got := doc.Find("[data-testid=longer-than-usual]").Text(); !strings.Contains(got, "plus de temps que d'habitude") {
		t.Errorf("longer-than-usual in French: %q", got)
	}
	_, doc = b.get("/", fr...)
	if got := doc.Find("[data-testid=scenario-summary]").Text(); !strings.Contains(got, "Données en attente ~60 s") {
		t.Errorf("scenario summary in French: %q", got)
	}
	if got := doc.Find("[data-testid=pending-current]").Text(); !strings.Contains(got, "En vigueur pour ce navigateur") {
		t.Errorf("pending control in French: %q", got)
	}
	if got := doc.Find("button[data-copy]").First().AttrOr("aria-label", ""); !strings.HasPrefix(got, "Copier ") {
		t.Errorf("copy button label in French: %q", got)
	}
	resp, doc := b.post(running+"/delete", url.Values{"csrf": {b.csrf()}}, fr...)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(doc.Find("[data-testid=error-message]").Text(), "récupération est en cours") {
		t.Errorf("409 in French: %d %q", resp.StatusCode, doc.Find("[data-testid=error-message]").Text())
	}
	if resp, _ := b.post(ready+"/delete", url.Values{"csrf": {b.csrf()}}, fr...); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	_, doc = b.get("/links?done=deleted", fr...)
	if got := doc.Find("[data-testid=notice]").Text(); !strings.Contains(got, "La liaison a été supprimée") {
		t.Errorf("deletion notice in French: %q", got)
	}
}

func TestDeleteWaitsForAnotherSessionsFetchOfTheSameCard(t *testing.T) {
	app := newTestApp(t)
	owner := app.browser()
	path := owner.linkFor(testLoginID)
	app.finish(path, store.StateReady, "")
	// Another browser links the same bank connection; its fetch is running.
	other := app.browser()
	other.linkFor(testLoginID)

	resp, doc := owner.post(path+"/delete", url.Values{"csrf": {owner.csrf()}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("delete while the card is fetched for another session: %d, want 409", resp.StatusCode)
	}
	if msg := doc.Find("[data-testid=error-message]").Text(); !strings.Contains(msg, "fetch is running") {
		t.Errorf("409 message %q", msg)
	}
	if len(app.cards.called()) != 0 {
		t.Error("DeleteCard was called while the card was in use")
	}
}

// TestStopThenDelete stops a running fetch from the list: the row comes back
// failed with CANCELLED (ours), offering Try again and Delete; stopping an
// ended fetch changes nothing.
func TestStopThenDelete(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	pending := b.linkFor(loginA)
	app.finish(pending, store.StatePending, "")
	_, doc := b.get("/links")
	csrf := doc.Find("[data-testid=row-stop]").Closest("form").Find("input[name=csrf]").AttrOr("value", "")
	resp, row := b.postRow(pending+"/cancel", csrf)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Stop: status %d", resp.StatusCode)
	}
	if got := row.AttrOr("data-state", ""); got != "failed" {
		t.Errorf("row after Stop is %q, want failed", got)
	}
	if row.Find("a[data-testid=row-delete]").Length() != 1 || row.Find("[data-testid=row-retry]").Length() != 1 {
		t.Errorf("after Stop the row offers no Delete or Try again:\n%s", row.Text())
	}
	if _, polls := row.Attr("hx-get"); polls {
		t.Error("the stopped row still polls")
	}
	link, _ := app.db.Link(t.Context(), strings.TrimPrefix(pending, "/links/"))
	if link.State != store.StateFailed || link.ErrorCode != "CANCELLED" {
		t.Errorf("stopped link %s %s", link.State, link.ErrorCode)
	}
	_, page := b.get(pending)
	if got := page.Find("[data-testid=failure-code]"); got.Text() != "CANCELLED" || got.AttrOr("data-ours", "x") == "x" {
		t.Errorf("link page code %q, ours=%v", got.Text(), got.AttrOr("data-ours", "x") != "x")
	}
	// Stopping again (an ended fetch) is harmless.
	if resp, _ := b.postRow(pending+"/cancel", csrf); resp.StatusCode != http.StatusOK {
		t.Errorf("second Stop: status %d", resp.StatusCode)
	}
	if l, _ := app.db.Link(t.Context(), link.ID); l.UpdatedAt != link.UpdatedAt || l.State != store.StateFailed {
		t.Error("a second Stop changed the link")
	}
	// Without the CSRF token, nothing happens.
	other := b.linkFor(loginB)
	app.finish(other, store.StatePending, "")
	if resp, _ := b.postRow(other+"/cancel", "wrong"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("Stop without CSRF: status %d, want 403", resp.StatusCode)
	}
}

// TestStartOverCanDeleteTheLinksFirst: the confirmation page lists the
// links Start over leaves; "Delete these links" stops a running fetch and
// deletes each at Flinks and here, then starts over. When Flinks refuses one,
// nothing is started over and every link stays reachable.
func TestStartOverCanDeleteTheLinksFirst(t *testing.T) {
	app := newTestApp(t)
	b := app.browser()
	ready, pending := b.linkFor(loginA), b.linkFor(loginB)
	app.finish(ready, store.StateReady, "")
	app.finish(pending, store.StatePending, "")

	_, doc := b.get("/links")
	if href := doc.Find("a[data-testid=start-over]").AttrOr("href", ""); href != "/start-over" {
		t.Fatalf("Start over goes to %q, want its confirmation page", href)
	}
	resp, doc := b.get("/start-over")
	if resp.StatusCode != http.StatusOK || doc.Find("[data-testid=start-over-links] li").Length() != 2 {
		t.Fatalf("confirmation page: %d, %d links listed", resp.StatusCode, doc.Find("[data-testid=start-over-links] li").Length())
	}
	csrf := doc.Find("form input[name=csrf]").AttrOr("value", "")

	// Flinks refuses: nothing is started over.
	app.cards.fail(&flinks.Error{Endpoint: "DeleteCard", StatusCode: 500, FlinksCode: "AGGREGATION_ERROR"})
	resp, doc = b.post("/start-over", url.Values{"csrf": {csrf}, "links": {"delete"}})
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(doc.Find("h1").Text(), "Nothing was started over") {
		t.Errorf("refused: %d %q", resp.StatusCode, doc.Find("h1").Text())
	}
	if _, doc := b.get("/links"); doc.Find("[data-testid=link-row]").Length() != 2 {
		t.Error("after a refused deletion the links are no longer listed")
	}

	app.cards.fail(nil)
	before := len(app.cards.called())
	resp, _ = b.post("/start-over", url.Values{"csrf": {csrf}, "links": {"delete"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("delete and start over: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if calls := app.cards.called()[before:]; len(calls) != 2 {
		t.Errorf("DeleteCard calls %v, want both links'", calls)
	}
	for _, login := range []string{loginA, loginB} {
		if links, _ := app.db.LinksByLoginID(t.Context(), login); len(links) != 0 {
			t.Errorf("%d links of %s left: nothing may stay unreachable", len(links), login)
		}
	}
	if _, doc := b.get("/links"); doc.Find("[data-testid=link-row]").Length() != 0 {
		t.Error("links listed after starting over")
	}
}
