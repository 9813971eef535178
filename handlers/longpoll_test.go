package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"flinkslink/store"
)

// answer is a long-polled request's outcome.
type answer struct {
	status int
	doc    *goquery.Document
	err    error
}

// startPoll sends the status request the page's htmx sends, in the
// background: it may wait for the link to change.
func startPoll(b *browser, url string) <-chan answer {
	out := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, b.app.srv.URL+url, nil)
		req.Header.Set("HX-Request", "true")
		resp, err := b.c.Do(req)
		if err != nil {
			out <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		out <- answer{status: resp.StatusCode, doc: doc, err: err}
	}()
	return out
}

// waitingOn blocks until n requests wait on the link (the store counts its
// watchers): the request is parked, not answered and not lost.
func waitingOn(t *testing.T, app *testApp, linkID string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // a hang guard, not a timing claim
	for app.db.Watching(linkID) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait on the link, want %d", app.db.Watching(linkID), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// got is the poll's answer, with a hang guard.
func got(t *testing.T, poll <-chan answer, what string) answer {
	t.Helper()
	select {
	case a := <-poll:
		if a.err != nil {
			t.Fatalf("%s: %v", what, a.err)
		}
		if a.status != http.StatusOK {
			t.Fatalf("%s: status %d", what, a.status)
		}
		return a
	case <-time.After(time.Minute):
		t.Fatalf("%s: no answer", what)
		return answer{}
	}
}

// A status request that names the version its page shows waits until the
// link changes, and then answers with the change; a request for an out of
// date page answers at once; a shutdown answers the waiting ones at once.
func TestStatusWaitsForAChangeAndEndsOnShutdown(t *testing.T) {
	// An hour: only a change or the shutdown can end these waits.
	app := newTestApp(t, func(c *Config) { c.LongPollWait = time.Hour; c.LongerThanUsual = time.Hour })
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	_, page := b.get(path)
	url := statusPollURL(t, page, true)

	poll := startPoll(b, url)
	waitingOn(t, app, id, 1)
	if n := app.lot.Parked(); n != 1 {
		t.Errorf("%d requests parked, want the waiting one (no goroutine holds it)", n)
	}
	select {
	case a := <-poll:
		t.Fatalf("the request answered (%d) with nothing changed", a.status)
	default:
	}
	if err := app.db.RecordState(t.Context(), id, 1, store.StateUpdate{State: store.StatePending, RequestID: "r1", Polls: 1,
		NextPollAt: time.Now().Add(10 * time.Second), Note: store.NoteOf(store.NotePending, 1)}); err != nil {
		t.Fatal(err)
	}
	woken := got(t, poll, "woken request")
	st := woken.doc.Find("#link-status")
	if st.AttrOr("data-state", "") != "pending" || woken.doc.Find("[data-testid=polls]").Text() != "1" {
		t.Errorf("woken answer shows %q with %q polls, want pending with 1", st.AttrOr("data-state", ""), woken.doc.Find("[data-testid=polls]").Text())
	}
	// The timeline rides on the same answer: the pending entry is in it.
	if woken.doc.Find("hx-partial [data-testid=timeline-polls], [data-testid=timeline-polls][hx-swap-oob]").Length() == 0 {
		t.Errorf("the answer does not bring the new timeline entry:\n%s", tlHTML(woken.doc.Html()))
	}
	next := st.AttrOr("hx-get", "")
	if next == "" || strings.HasPrefix(url, next) {
		t.Fatalf("the answer polls %q next, want a newer version than %q", next, url)
	}

	// The old version again (a second tab still showing it): at once.
	again := got(t, startPoll(b, url), "out of date request")
	if again.doc.Find("#link-status").AttrOr("data-state", "") != "pending" {
		t.Error("an out of date page was not answered with the current state")
	}

	// Waiting on the new version, the server stops: answered at once, with
	// the page as it is, and the graceful stop does not wait for the hour.
	poll = startPoll(b, next)
	waitingOn(t, app, id, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- app.srv.Config.Shutdown(ctx) }()
	drained := got(t, poll, "request waiting at shutdown")
	if drained.doc.Find("#link-status").AttrOr("data-state", "") != "pending" {
		t.Error("the drained answer lost the link's state")
	}
	if err := <-shutdown; err != nil {
		t.Errorf("graceful shutdown: %v", err)
	}
	if n := app.db.Watching(id); n != 0 {
		t.Errorf("%d requests still wait after the shutdown", n)
	}
}

// A finished link's status request never waits: there is nothing to wait for.
func TestStatusOfAFinishedLinkAnswersAtOnce(t *testing.T) {
	app := newTestApp(t, func(c *Config) { c.LongPollWait = time.Hour })
	b := app.browser()
	path := b.linkFor(testLoginID)
	id := strings.TrimPrefix(path, "/links/")
	if err := app.db.RecordState(t.Context(), id, 1, store.StateUpdate{State: store.StateFailed, ErrorCode: "INVALID_LOGIN"}); err != nil {
		t.Fatal(err)
	}
	link, err := app.db.Link(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	a := got(t, startPoll(b, statusURL(link)), "finished link")
	if a.doc.Find("#link-status").AttrOr("data-state", "") != "failed" || a.doc.Find("#link-status[hx-get]").Length() != 0 {
		t.Error("a finished link's status still polls")
	}
}
