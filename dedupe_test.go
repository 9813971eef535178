package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"flinkslink/flinks/flinkstest"
	"flinkslink/flinks/sandbox"
)

// flinksMonitor sits in front of a Flinks upstream and watches what each card
// (LoginId) gets: cached Authorize calls, data calls, and how many of that
// card's calls are in flight at once.
type flinksMonitor struct {
	mu         sync.Mutex
	authorizes map[string]int    // LoginId → cached Authorize calls
	dataCalls  map[string]int    // LoginId → GetAccountsDetail and Async calls
	card       map[string]string // RequestId → LoginId
	inFlight   map[string]int    // LoginId → calls in flight
	overlap    map[string]int    // LoginId → most calls in flight at once
	pending    map[string]bool   // LoginId → answered 202 at least once
	waiting    map[string]bool   // LoginId → its last data call answered 202
	peak       int               // most cards waiting on a 202 at once
}

func newFlinksMonitor() *flinksMonitor {
	return &flinksMonitor{authorizes: map[string]int{}, dataCalls: map[string]int{}, card: map[string]string{},
		inFlight: map[string]int{}, overlap: map[string]int{}, pending: map[string]bool{}, waiting: map[string]bool{}}
}

// bodyRecorder keeps a copy of what a handler writes.
type bodyRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *bodyRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }
func (r *bodyRecorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

func (fm *flinksMonitor) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := strings.Index(r.URL.Path, "/BankingServices/")
		if i < 0 {
			next.ServeHTTP(w, r)
			return
		}
		endpoint := r.URL.Path[i+len("/BankingServices/"):]
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var body struct {
			LoginID          string `json:"LoginId"`
			RequestID        string `json:"RequestId"`
			MostRecentCached bool
		}
		_ = json.Unmarshal(raw, &body)

		fm.mu.Lock()
		card := ""
		switch {
		case endpoint == "Authorize" && body.LoginID != "" && body.MostRecentCached:
			card = body.LoginID
			fm.authorizes[card]++
		case endpoint == "GetAccountsDetail":
			card = fm.card[body.RequestID]
			fm.dataCalls[card]++
		case strings.HasPrefix(endpoint, "GetAccountsDetailAsync/"):
			card = fm.card[strings.TrimPrefix(endpoint, "GetAccountsDetailAsync/")]
			fm.dataCalls[card]++
		}
		if card != "" {
			fm.inFlight[card]++
			fm.overlap[card] = max(fm.overlap[card], fm.inFlight[card])
		}
		fm.mu.Unlock()

		rec := &bodyRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)

		fm.mu.Lock()
		defer fm.mu.Unlock()
		if card == "" {
			return
		}
		fm.inFlight[card]--
		if endpoint != "Authorize" {
			fm.waiting[card] = rec.status == http.StatusAccepted
			if fm.waiting[card] {
				fm.pending[card] = true
				fm.peak = max(fm.peak, len(fm.waiting))
			} else {
				delete(fm.waiting, card)
			}
		}
		if endpoint == "Authorize" {
			var resp struct{ RequestId string }
			if json.Unmarshal(rec.body.Bytes(), &resp) == nil && resp.RequestId != "" {
				fm.card[resp.RequestId] = card
			}
		}
	})
}

// waitingCards returns how many cards wait on a 202 now.
func (fm *flinksMonitor) waitingCards() int {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return len(fm.waiting)
}

// cardStats returns what the card loginID got.
func (fm *flinksMonitor) cardStats(loginID string) (authorizes, dataCalls, overlap int) {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return fm.authorizes[loginID], fm.dataCalls[loginID], fm.overlap[loginID]
}

// monitoredFlinks runs the standalone sandbox (configured by cfg) behind a
// flinksMonitor and returns the app's configuration pointing at it.
func monitoredFlinks(t *testing.T, cfg sandbox.Config) (*sandbox.Server, *flinksMonitor, *httptest.Server, map[string]string) {
	t.Helper()
	cfg.StatePath = filepath.Join(t.TempDir(), "sandbox.db")
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fm := newFlinksMonitor()
	upstream := httptest.NewServer(fm.wrap(sb))
	t.Cleanup(func() {
		upstream.Close()
		sb.Close()
	})
	env := externalFlinksEnv(upstream.URL, map[string]string{"LOG_LEVEL": "warn"})
	return sb, fm, upstream, env
}

// sessionTag opens the landing page in b (starting its session) and returns
// the tag the app gave Connect for it.
func sessionTag(t *testing.T, b *httpBrowser, base string) string {
	t.Helper()
	_, home := b.get(base + "/")
	src, ok := home.Find("[data-testid=connect-iframe]").Attr("src")
	if !ok {
		t.Fatal("landing page has no Connect iframe")
	}
	u, err := url.Parse(src)
	if err != nil || u.Query().Get("tag") == "" {
		t.Fatalf("Connect URL %q carries no tag", src)
	}
	return u.Query().Get("tag")
}

func callbackURL(base, loginID, tag string) string {
	return base + "/connect/callback?" + url.Values{"loginId": {loginID}, "institution": {"FlinksCapital"}, "tag": {tag}}.Encode()
}

// accountIDs lists the accounts a ready summary shows (title and masked number).
func accountList(doc *goquery.Document) string {
	var out []string
	doc.Find("[data-testid=account]").Each(func(_ int, s *goquery.Selection) {
		title, _ := s.Attr("aria-label")
		out = append(out, title+" "+strings.TrimSpace(s.Find("[data-testid=account-number]").Text()))
	})
	return strings.Join(out, "; ")
}

// One person links one card, and every way the redirect can repeat happens at
// once: reloads, a double click, the iframe's redirect and the top window's,
// two more browser sessions with the same LoginId. Flinks sees one cached
// Authorize and never two calls on the card at once; every session's link
// reaches ready with the same accounts.
func TestDuplicateRedirectsMakeOneFlinksFetch(t *testing.T) {
	// The sandbox's clock stands still until every redirect has been
	// answered: all of them arrive while Flinks is still collecting.
	clock := flinkstest.NewClock(time.Now())
	_, fm, _, env := monitoredFlinks(t, sandbox.Config{TimeScale: 0.1, Now: clock.Now}) // greatday_nomfa pending 1 s of its clock
	env["FLINKS_POLL_INTERVAL"] = "100ms"
	base := launchApp(t, appOptions{env: env}).base

	first := newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, first, base, "greatday_nomfa")
	loginID := redirect.Query().Get("loginId")
	browsers := []*httpBrowser{first, newHTTPBrowser(t), newHTTPBrowser(t)}
	urls := []string{redirect.String(), callbackURL(base, loginID, sessionTag(t, browsers[1], base)), callbackURL(base, loginID, sessionTag(t, browsers[2], base))}

	// 20 redirects over the three sessions, all at once; some as Connect's
	// iframe sends them (Sec-Fetch-Dest: iframe), the rest as the top window.
	type answer struct {
		session int
		status  int
		target  string
	}
	answers := make(chan answer, 20)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 20 {
		s := i % 3
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, urls[s], nil)
			if i%2 == 0 {
				req.Header.Set("Sec-Fetch-Dest", "iframe")
			}
			<-start
			resp, err := browsers[s].c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			a := answer{session: s, status: resp.StatusCode, target: resp.Header.Get("Location")}
			if a.status == http.StatusOK { // the iframe's breakout page
				doc, _ := goquery.NewDocumentFromReader(resp.Body)
				a.target, _ = doc.Find("[data-testid=breakout-link]").Attr("href")
			}
			answers <- a
		})
	}
	close(start)
	wg.Wait()
	close(answers)
	links := map[int]string{}
	for a := range answers {
		if (a.status != http.StatusSeeOther && a.status != http.StatusOK) || !strings.HasPrefix(a.target, "/links/") {
			t.Fatalf("session %d: redirect answered %d → %q", a.session, a.status, a.target)
		}
		if prev, ok := links[a.session]; ok && prev != a.target {
			t.Errorf("session %d got two links: %s and %s", a.session, prev, a.target)
		}
		links[a.session] = a.target
	}
	if len(links) != 3 {
		t.Fatalf("links per session %v, want one for each of 3 sessions", links)
	}
	// Once Flinks has answered the fetch's data call with a 202, the scrape ends.
	for deadline := time.Now().Add(30 * time.Second); fm.waitingCards() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fetch never got a 202 from Flinks")
		}
	}
	clock.Advance(2 * time.Second)

	var want string
	for s, path := range links {
		doc := waitLink(t, browsers[s], base, path, 15*time.Second, isReady)
		got := accountList(doc)
		if got == "" {
			t.Fatalf("session %d: ready without accounts", s)
		}
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("session %d shows %s, another session %s", s, got, want)
		}
	}
	// A reload after the end starts nothing new.
	if resp, _ := first.get(redirect.String()); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reload after ready answered %d", resp.StatusCode)
	}
	authorizes, data, overlap := fm.cardStats(loginID)
	if authorizes != 1 {
		t.Errorf("Flinks saw %d cached Authorize calls for the LoginId, want 1", authorizes)
	}
	if data < 2 {
		t.Errorf("Flinks saw %d data calls, want GetAccountsDetail and at least one poll", data)
	}
	if overlap != 1 {
		t.Errorf("Flinks saw up to %d calls on the card at once, want 1", overlap)
	}
}

// Two sessions linked one card and the app stopped while Flinks was still
// collecting; the next start runs one fetch for both, polling the request
// they were waiting for, and both reach ready.
func TestRestartResumesOneFetchPerLoginID(t *testing.T) {
	// The scrape ends only after the restart, when the test moves the clock.
	clock := flinkstest.NewClock(time.Now())
	_, fm, _, env := monitoredFlinks(t, sandbox.Config{TimeScale: 0.3, Now: clock.Now}) // greatday_nomfa pending 3 s of its clock
	env["FLINKS_POLL_INTERVAL"] = "100ms"
	dbPath := filepath.Join(t.TempDir(), "app.db")
	app := launchApp(t, appOptions{env: env, dbPath: dbPath})
	base, stop := app.base, app.stop

	a, b := newHTTPBrowser(t), newHTTPBrowser(t)
	redirect := connectThroughSandbox(t, a, base, "greatday_nomfa")
	loginID := redirect.Query().Get("loginId")
	respA, _ := a.get(redirect.String())
	respB, _ := b.get(callbackURL(base, loginID, sessionTag(t, b, base)))
	pathA, pathB := respA.Header.Get("Location"), respB.Header.Get("Location")
	waitLink(t, a, base, pathA, 10*time.Second, pendingPolled)
	waitLink(t, b, base, pathB, 10*time.Second, pendingPolled)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	authBefore, dataBefore, _ := fm.cardStats(loginID)
	idA, idB := strings.TrimPrefix(pathA, "/links/"), strings.TrimPrefix(pathB, "/links/")
	db := openAppStore(t, filepath.Dir(dbPath))
	callsBefore, _ := db.Calls(t.Context(), idA)
	db.Close()

	app = launchApp(t, appOptions{env: env, dbPath: dbPath})
	base, stop = app.base, app.stop
	clock.Advance(4 * time.Second)
	docA := waitLink(t, a, base, pathA, 15*time.Second, isReady)
	docB := waitLink(t, b, base, pathB, 15*time.Second, isReady)
	if accountList(docA) == "" || accountList(docA) != accountList(docB) {
		t.Errorf("sessions show %q and %q, want the same accounts", accountList(docA), accountList(docB))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	authorizes, data, overlap := fm.cardStats(loginID)
	if authBefore != 1 || authorizes != 1 {
		t.Errorf("cached Authorize calls: %d before the restart, %d in all; want 1 (the restart resumes the request)", authBefore, authorizes)
	}
	if overlap != 1 {
		t.Errorf("Flinks saw up to %d calls on the card at once, want 1", overlap)
	}
	// Every call Flinks got after the restart is in both links' logs, once:
	// one fetch, recorded on both links.
	db = openAppStore(t, filepath.Dir(dbPath))
	callsA, _ := db.Calls(t.Context(), idA)
	callsB, _ := db.Calls(t.Context(), idB)
	resumedA := callsA[len(callsBefore):]
	if len(resumedA) == 0 || len(resumedA) != data-dataBefore {
		t.Errorf("Flinks got %d data calls after the restart; link A's log has %d", data-dataBefore, len(resumedA))
	}
	if len(callsB) < len(resumedA) {
		t.Fatalf("link B's log has %d calls, fewer than the %d resumed ones", len(callsB), len(resumedA))
	}
	for i, c := range callsB[len(callsB)-len(resumedA):] {
		if r := resumedA[i]; c.At != r.At || c.Endpoint != r.Endpoint || c.RequestID != r.RequestID || c.StatusCode != r.StatusCode {
			t.Errorf("resumed call %d differs between the links: %+v and %+v", i, r, c)
		}
	}
}
