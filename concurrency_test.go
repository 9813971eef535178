package main

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"go.uber.org/goleak"

	"flinkslink/flinks"
	"flinkslink/flinks/sandbox"
)

// Hundreds of people link accounts at once: 300 distinct cards over 60
// browser sessions, each redirect arriving twice at the same moment, every
// link page polling its status while Flinks answers 202. Run under -race:
// every link reaches ready with its accounts, each card gets exactly one
// cached Authorize and never two calls at once, and once the app has shut
// down no goroutine is left behind.
func TestManyLinksAtOnce(t *testing.T) {
	const (
		sessions        = 60
		cardsPerSession = 5 // each redirect twice
		cards           = sessions * cardsPerSession
	)
	// Registered first so it runs last, after every cleanup below has closed
	// the app, the upstream and the sandbox. Goroutines that existed before
	// this test (other tests' idle HTTP connections, the race runtime) are not
	// this test's: IgnoreCurrent leaves them out.
	ignoreBefore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		start := time.Now()
		goleak.VerifyNone(t, ignoreBefore)
		t.Logf("no goroutine left (checked in %v)", time.Since(start).Round(time.Millisecond))
	})

	// The sandbox's clock jumps when the test says so: every scrape lasts a
	// minute of it, so the fetches wait on 202s together until the jump ends
	// them all, however slow the machine.
	var jump atomic.Int64
	sb, fm, upstream, env := monitoredFlinks(t, sandbox.Config{Now: func() time.Time { return time.Now().Add(time.Duration(jump.Load())) }})
	scrape := time.Minute
	sb.SetPendingOverride(&scrape)
	env["FLINKS_POLL_INTERVAL"] = "500ms"
	env["LOG_LEVEL"] = "error"
	env["RATE_LIMITS"] = "off" // 60 sessions and 600 redirects from 127.0.0.1: the per-IP limits would refuse most
	app := launchApp(t, appOptions{env: env})
	base, stop := app.base, app.stop

	// The cards: live Authorize calls, as Connect makes them.
	client, err := flinks.NewClient(flinks.Config{BaseURL: upstream.URL + "/v3/" + sandbox.DefaultCustomerID,
		APIKey: sandbox.DefaultAPIKey, SecretKey: sandbox.DefaultSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	loginIDs := make([]string, cards)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < cards; i += 16 {
				resp, err := client.Authorize(t.Context(), flinks.AuthorizeRequest{
					Institution: "FlinksCapital", Username: "test_no_transactions", Password: "Everyday", Save: true})
				if err != nil {
					t.Error(err)
					return
				}
				loginIDs[i] = resp.Login.ID
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	browsers := make([]*httpBrowser, sessions)
	tags := make([]string, sessions)
	for s := range browsers {
		browsers[s] = newHTTPBrowser(t)
		// 600 redirects at once on a loaded core may queue for longer than
		// the kit's 10 s hang guard: this test is about correctness, not speed.
		browsers[s].c.Timeout = 3 * time.Minute
		tags[s] = sessionTag(t, browsers[s], base)
	}
	t.Logf("%d cards and %d sessions ready after %v", cards, sessions, time.Since(started).Round(time.Millisecond))

	// Every redirect twice, all 600 at once.
	paths := make([][2]string, cards)
	start := make(chan struct{})
	for i, loginID := range loginIDs {
		s := i / cardsPerSession
		for k := range 2 {
			wg.Go(func() {
				<-start
				resp, err := browsers[s].c.Get(callbackURL(base, loginID, tags[s]))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					t.Errorf("card %d: redirect answered %d", i, resp.StatusCode)
				}
				paths[i][k] = resp.Header.Get("Location")
			})
		}
	}
	burst := time.Now()
	close(start)
	wg.Wait()
	t.Logf("600 redirects answered in %v", time.Since(burst).Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}
	for i, p := range paths {
		if p[0] != p[1] || !strings.HasPrefix(p[0], "/links/") {
			t.Fatalf("card %d: the two redirects led to %q and %q, want the same link", i, p[0], p[1])
		}
	}
	t.Logf("redirects answered after %v", time.Since(started).Round(time.Millisecond))

	// Every link page polls its status, as htmx does, until ready; meanwhile
	// every fetch gets to wait on Flinks' 202, and then the scrapes end.
	const hangGuard = 3 * time.Minute
	var mu sync.Mutex
	states := map[string]int{}
	for i := range cards {
		s := i / cardsPerSession
		wg.Go(func() {
			// A hang guard only: the scrapes end when the test jumps the
			// sandbox's clock, after every fetch waits, however slow that is.
			deadline := time.Now().Add(hangGuard)
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, base+paths[i][0]+"/status", nil)
				req.Header.Set("HX-Request", "true")
				resp, err := browsers[s].c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				doc, err := goquery.NewDocumentFromReader(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Error(err)
					return
				}
				state, _ := doc.Find("#link-status").Attr("data-state")
				mu.Lock()
				states[state]++
				mu.Unlock()
				switch state {
				case "ready":
					if doc.Find("[data-testid=account]").Length() == 0 {
						t.Errorf("card %d: ready without accounts", i)
					}
					return
				case "failed", "timed_out":
					t.Errorf("card %d: link ended %s (%s)", i, state, doc.Find("[data-testid=failure-code]").Text())
					return
				}
				time.Sleep(150 * time.Millisecond)
			}
			t.Errorf("card %d: not ready after %v", i, hangGuard)
		})
	}
	for deadline := time.Now().Add(hangGuard); fm.waitingCards() < cards; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("after %v only %d of %d fetches wait on a 202", hangGuard, fm.waitingCards(), cards)
			break
		}
	}
	t.Logf("%d fetches pending at once after %v", fm.waitingCards(), time.Since(started).Round(time.Millisecond))
	jump.Store(int64(scrape + time.Second))
	wg.Wait()
	t.Logf("all ready after %v; status answers seen: %v", time.Since(started).Round(time.Millisecond), states)
	stopping := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	t.Logf("shut down in %v", time.Since(stopping).Round(time.Millisecond))

	for i, loginID := range loginIDs {
		authorizes, data, overlap := fm.cardStats(loginID)
		if authorizes != 1 || overlap != 1 || data < 2 {
			t.Errorf("card %d: %d cached Authorize, %d data calls, up to %d at once; want 1, ≥2, 1", i, authorizes, data, overlap)
		}
	}
}
