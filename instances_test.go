package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"flinkslink/flinks/flinkstest"
	"flinkslink/store/pgtest"
)

// sharedFlinks is a Flinks for many cards that several app instances call:
// every card answers 202 until the test releases the data, and the log says
// whether two call sequences of one card ever overlapped.
type sharedFlinks struct {
	URL, connect string
	mu           sync.Mutex
	cards        map[string]*sharedCard // by LoginId
	byRID        map[string]*sharedCard
	released     bool
	tokens       int
}

type sharedCard struct {
	loginID, rid string
	authorizes   int
	inFlight     int         // calls of this card being answered now
	overlaps     int         // calls that started while another was in flight
	calls        []time.Time // when each call of the card arrived
	polls        []time.Time // of them, the Async polls
	ready        bool        // answered the data
}

func newSharedFlinks(t *testing.T) *sharedFlinks {
	f := &sharedFlinks{cards: map[string]*sharedCard{}, byRID: map[string]*sharedCard{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL, f.connect = srv.URL+"/v3/"+flinkstest.CustomerID, srv.URL+"/v2/"
	return f
}

func (f *sharedFlinks) card(loginID string) *sharedCard {
	c := f.cards[loginID]
	if c == nil {
		c = &sharedCard{loginID: loginID, rid: fmt.Sprintf("req-%d", len(f.cards)+1)}
		f.cards[loginID], f.byRID[c.rid] = c, c
	}
	return c
}

func (f *sharedFlinks) serve(w http.ResponseWriter, r *http.Request) {
	endpoint, id, req, ok := readFlinksCall(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	reply := func(status int, body string) { replyJSON(w, status, body) }
	f.mu.Lock()
	var c *sharedCard
	switch endpoint {
	case "GenerateAuthorizeToken":
		f.tokens++
		n := f.tokens
		f.mu.Unlock()
		reply(200, fmt.Sprintf(`{"HttpStatusCode":200,"Token":%q}`, flinkstest.TokenN(n)))
		return
	case "Authorize":
		c = f.card(req.LoginID)
		c.authorizes++
	case "GetAccountsDetail":
		c = f.byRID[req.RequestID]
	case "GetAccountsDetailAsync":
		c = f.byRID[id]
	}
	if c == nil {
		f.mu.Unlock()
		reply(400, `{"HttpStatusCode":400,"FlinksCode":"SESSION_NONEXISTENT","Message":"unknown RequestId"}`)
		return
	}
	c.calls = append(c.calls, time.Now())
	if endpoint == "GetAccountsDetailAsync" {
		c.polls = append(c.polls, time.Now())
	}
	if c.inFlight > 0 {
		c.overlaps++
	}
	c.inFlight++
	released := f.released
	f.mu.Unlock()
	// The answer takes a moment, as Flinks' do: a second caller would overlap.
	time.Sleep(5 * time.Millisecond)
	defer func() {
		f.mu.Lock()
		c.inFlight--
		f.mu.Unlock()
	}()
	switch {
	case endpoint == "Authorize":
		reply(200, flinkstest.AuthorizedBody(c.rid, c.loginID))
	case released:
		f.mu.Lock()
		c.ready = true
		f.mu.Unlock()
		reply(200, flinkstest.DetailBody(c.rid, c.loginID))
	default:
		reply(202, flinkstest.PendingBody("OPERATION_PENDING", c.rid))
	}
}

// flinksCall is what a fake Flinks reads of a call's JSON body.
type flinksCall struct{ LoginID, RequestID string }

// readFlinksCall parses a call to a fake Flinks: its endpoint, the path's
// last part (GetAccountsDetailAsync's RequestId) and its body; ok is false
// outside the Banking Services path.
func readFlinksCall(r *http.Request) (endpoint, id string, req flinksCall, ok bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, flinkstest.Prefix)
	if !ok {
		return "", "", req, false
	}
	endpoint, id, _ = strings.Cut(rest, "/")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	_ = json.Unmarshal(body, &req)
	return endpoint, id, req, true
}

// replyJSON answers a fake Flinks call.
func replyJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// instanceEnv is the environment of an app instance on the Postgres at
// dbURL, calling f, with the shared secrets every instance needs; extra
// adds to it.
func (f *sharedFlinks) instanceEnv(dbURL string, extra map[string]string) map[string]string {
	env := map[string]string{
		"DATABASE_URL":       dbURL,
		"SESSION_SECRET":     strings.Repeat("s", 40),
		"LOGINID_KEY":        strings.Repeat("k", 40),
		"FLINKS_API_URL":     f.URL,
		"FLINKS_CONNECT_URL": f.connect,
		"FLINKS_API_KEY":     "api-key",
		"FLINKS_SECRET_KEY":  "secret-key",
		"RATE_LIMITS":        "off",
	}
	maps.Copy(env, extra)
	return env
}

// pendingCards is how many cards have answered a 202.
func (f *sharedFlinks) pendingCards() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.cards {
		if len(c.calls) >= 2 { // Authorize, then the first 202
			n++
		}
	}
	return n
}

// Three instances on one Postgres: links made through Connect redirects
// spread over them, browsers polling any of them, and one instance killed
// with SIGKILL in the middle of the fetches. Every link ends ready, once;
// no card's calls ever overlap; the dead instance's cards are taken over
// within the lease time; and a status request waiting on one instance
// is answered when another one stores the change.
func TestInstancesShareOnePostgres(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	fl := newSharedFlinks(t)
	const (
		interval = 300 * time.Millisecond
		lease    = 3 * time.Second
		links    = 50
		sessions = 10
	)
	env := fl.instanceEnv(dbURL, map[string]string{
		"FLINKS_POLL_INTERVAL": interval.String(),
		"FETCH_LEASE":          lease.String(),
	})
	var apps []*appProcess
	for range 3 {
		apps = append(apps, startProcess(t, t.TempDir(), env))
	}

	// 10 browsers, 5 links each; the redirects go round-robin over the instances.
	type made struct {
		b        *httpBrowser
		path     string
		loginID  string
		instance int
	}
	var all []made
	for s := range sessions {
		b := newHTTPBrowser(t)
		tag := sessionTag(t, b, apps[s%3].base)
		for k := range links / sessions {
			i := s*(links/sessions) + k
			loginID := fmt.Sprintf("%08x-aaaa-4bbb-8ccc-%012x", i, i)
			resp, _ := b.get(callbackURL(apps[i%3].base, loginID, tag))
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/links/") {
				t.Fatalf("redirect %d on instance %d: %d → %q", i, i%3, resp.StatusCode, loc)
			}
			all = append(all, made{b: b, path: loc, loginID: loginID, instance: i % 3})
		}
	}
	for deadline := time.Now().Add(2 * time.Minute); fl.pendingCards() < links; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d cards reached Flinks' first 202", fl.pendingCards(), links)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Who holds what: the lease table, by holder.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Every link has stored its RequestId (so a new holder polls it rather
	// than authorizing again).
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var n int
		db.QueryRow(`SELECT count(*) FROM links WHERE state = 'pending' AND request_id <> ''`).Scan(&n)
		if n == links {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d links are pending with their RequestId", n, links)
		}
		time.Sleep(20 * time.Millisecond)
	}
	holders := func() map[string]int {
		rows, err := db.Query(`SELECT holder, count(*) FROM fetch_leases GROUP BY holder`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var h string
			var n int
			rows.Scan(&h, &n)
			out[h] = n
		}
		return out
	}
	if h := holders(); len(h) != 3 {
		t.Fatalf("leases by holder %v, want each of the 3 instances fetching", h)
	}
	// Each instance fetches the cards it received (round-robin): instance 0's.
	var victimCards []string
	for _, m := range all {
		if m.instance == 0 {
			victimCards = append(victimCards, m.loginID)
		}
	}
	// The lease of a link's card.
	leaseOf := func(path string) (holder string) {
		db.QueryRow(`SELECT f.holder FROM fetch_leases f JOIN links l ON l.login_key = f.card WHERE l.id = $1`,
			strings.TrimPrefix(path, "/links/")).Scan(&holder)
		return holder
	}
	victimHolder := leaseOf(all[0].path)
	if victimHolder == "" {
		t.Fatal("instance 0's first card has no lease")
	}

	// SIGKILL instance 0 mid-fetch. Its cards' pages stop changing: a status
	// request for one, on instance 1, waits until a survivor takes the card
	// over and stores the data.
	apps[0].kill()
	killed := time.Now()
	watched := all[0] // received, and fetched, by instance 0
	_, page := watched.b.get(apps[1].base + watched.path)
	next, _ := page.Find("#link-status").Attr("hx-get")
	if !strings.Contains(next, "?v=") {
		t.Fatalf("link page polls %q, want a long poll", next)
	}
	// The page's long polls, on instance 1 only: each answer is a change a
	// survivor stored (the card resumed, then its data), until ready.
	long := &http.Client{Jar: watched.b.c.Jar, Timeout: time.Minute}
	woken := make(chan []string, 1)
	go func() {
		var states []string
		for url := next; url != ""; {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, apps[1].base+url, nil)
			req.Header.Set("HX-Request", "true")
			resp, err := long.Do(req)
			if err != nil {
				woken <- append(states, "error: "+err.Error())
				return
			}
			doc, _ := goquery.NewDocumentFromReader(resp.Body)
			resp.Body.Close()
			st := doc.Find("#link-status")
			states = append(states, st.AttrOr("data-state", ""))
			url = st.AttrOr("hx-get", "")
		}
		woken <- states
	}()
	fl.mu.Lock()
	fl.released = true
	fl.mu.Unlock()

	// Every link reaches ready, read through the surviving instances.
	for i, m := range all {
		live := apps[1+i%2]
		for deadline := time.Now().Add(2 * time.Minute); ; {
			_, doc := m.b.get(live.base+m.path+"/status", "HX-Request", "true")
			if st := doc.Find("#link-status").AttrOr("data-state", ""); st == "ready" {
				break
			} else if st == "failed" || st == "timed_out" {
				t.Fatalf("link %d ended %s", i, st)
			}
			if time.Now().After(deadline) {
				t.Fatalf("link %d (instance %d) is not ready 2 minutes after the kill", i, m.instance)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if states := <-woken; len(states) == 0 || states[len(states)-1] != "ready" {
		t.Errorf("the long polls waiting on instance 1 answered %v, want the changes a survivor stored, ending ready", states)
	} else {
		t.Logf("long polls on instance 1 answered %v", states)
	}

	// Taken over: each of the dead instance's cards was called again, by a
	// survivor, within the lease time of the kill.
	var takeovers []time.Duration
	for _, loginID := range victimCards {
		fl.mu.Lock()
		c := fl.cards[loginID]
		var first time.Time
		for _, at := range c.calls {
			if at.After(killed) {
				first = at
				break
			}
		}
		fl.mu.Unlock()
		if first.IsZero() {
			t.Errorf("card %s was never called after the kill", loginID)
			continue
		}
		takeovers = append(takeovers, first.Sub(killed))
		if first.Sub(killed) > lease {
			t.Errorf("card %s was taken over %v after the kill, past the lease time (FETCH_LEASE=%v)", loginID, first.Sub(killed), lease)
		}
	}
	t.Logf("the dead instance's %d cards were called again %v after the kill (lease %v, sweep every %v, polls every %v)",
		len(victimCards), takeovers, lease, lease/6, interval)

	// No overlap, nothing lost or twice.
	fl.mu.Lock()
	for id, c := range fl.cards {
		if c.overlaps > 0 {
			t.Errorf("card %s: %d calls started while another of its calls was in flight", id, c.overlaps)
		}
		if c.authorizes != 1 {
			t.Errorf("card %s was authorized %d times, want once (the new holder polls the same RequestId)", id, c.authorizes)
		}
		for k := 1; k < len(c.polls); k++ {
			if gap := c.polls[k].Sub(c.polls[k-1]); gap < interval/2 {
				t.Errorf("card %s: polls %d and %d %v apart: two pollers", id, k-1, k, gap)
			}
		}
	}
	fl.mu.Unlock()
	var n, ready int
	db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE state = 'ready') FROM links`).Scan(&n, &ready)
	if n != links || ready != links {
		t.Errorf("the database has %d links, %d ready; want %d and %d", n, ready, links, links)
	}
	if h := holders(); h[victimHolder] != 0 {
		t.Errorf("the dead instance still holds %d leases", h[victimHolder])
	}
}

// Two instances on one Postgres, Flinks' next poll an hour away: a webhook
// received by instance B completes the fetch that instance A runs, and a
// Stop made on B ends another; in both, A stops its Flinks calls and hands
// the card's lease back at once rather than at its next poll.
func TestWebhookAndStopOnAnotherInstanceEndTheFetch(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	fl := newSharedFlinks(t)
	env := fl.instanceEnv(dbURL, map[string]string{
		"FLINKS_POLL_INTERVAL":  "1h",
		"FLINKS_WEBHOOK_SECRET": testWebhookSecret,
	})
	a := startProcess(t, t.TempDir(), env)
	b := startProcess(t, t.TempDir(), env)
	browser := newHTTPBrowser(t)
	tag := sessionTag(t, browser, a.base)
	const pushed, stopped = "0000000a-aaaa-4bbb-8ccc-00000000000a", "0000000b-aaaa-4bbb-8ccc-00000000000b"
	paths := map[string]string{}
	for _, loginID := range []string{pushed, stopped} {
		resp, _ := browser.get(callbackURL(a.base, loginID, tag))
		paths[loginID] = resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(paths[loginID], "/links/") {
			t.Fatalf("redirect on A: %d → %q", resp.StatusCode, paths[loginID])
		}
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	leaseHeld := func(loginID string) bool {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM fetch_leases f JOIN links l ON l.login_key = f.card WHERE l.id = $1`,
			strings.TrimPrefix(paths[loginID], "/links/")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after a minute, still not: %s", what)
			}
		}
	}
	// A fetches both: Authorize, a first 202, and the next poll in an hour.
	waitFor("both cards answered their first 202, with their leases held", func() bool {
		return fl.pendingCards() == 2 && leaseHeld(pushed) && leaseHeld(stopped)
	})
	callsOf := func(loginID string) int {
		fl.mu.Lock()
		defer fl.mu.Unlock()
		return len(fl.cards[loginID].calls)
	}
	before := map[string]int{pushed: callsOf(pushed), stopped: callsOf(stopped)}
	stateOn := func(app *appProcess, loginID string) string {
		_, doc := browser.get(app.base+paths[loginID]+"/status", "HX-Request", "true")
		return doc.Find("#link-status").AttrOr("data-state", "")
	}

	// The push, to B.
	fl.mu.Lock()
	rid := fl.cards[pushed].rid
	fl.mu.Unlock()
	body := []byte(`{"ResponseType":"GetAccountsDetail",` + strings.TrimPrefix(flinkstest.DetailBody(rid, pushed), "{"))
	if got := postWebhook(t, b.base, body, testWebhookSecret); got != http.StatusOK {
		t.Fatalf("webhook on B: %d, want 200", got)
	}
	waitFor("the pushed link is ready, read on A", func() bool { return stateOn(a, pushed) == "ready" })
	waitFor("A gave the pushed card's lease back", func() bool { return !leaseHeld(pushed) })
	if _, page := browser.get(a.base + paths[pushed]); !strings.Contains(page.Find("#timeline-details").Text(), "webhook") {
		t.Errorf("the timeline on A does not say the data came by webhook: %q", page.Find("#timeline-details").Text())
	}

	// Stop, on B.
	_, page := browser.get(b.base + paths[stopped])
	resp, _ := browser.postForm(b.base+paths[stopped]+"/cancel", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("Stop on B: %d, want 303", resp.StatusCode)
	}
	waitFor("the stopped link is failed, read on A", func() bool { return stateOn(a, stopped) == "failed" })
	waitFor("A gave the stopped card's lease back", func() bool { return !leaseHeld(stopped) })

	// With its leases given back, A runs neither fetch: its calls ended
	// where they were, an hour before their next poll.
	for loginID, n := range before {
		if got := callsOf(loginID); got != n {
			t.Errorf("card %s: %d Flinks calls after the fetch ended elsewhere (%d before, %d after)", loginID, got-n, n, got)
		}
	}
	resp, err = http.Get(a.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	health, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(health), "fetches: 0 ") {
		t.Errorf("A's /healthz says %q, want no fetch running", health)
	}
}
