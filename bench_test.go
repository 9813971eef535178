//go:build bench

// The benchmark behind `make bench`: the app as a child process (this test
// binary re-executed, see TestMain) against a fake Flinks in this process,
// driven over real HTTP by load generators and, for what a person sees, by
// real Chromium. It prints every figure of issue 10's table, with the bare
// echo handler measured in the same run. It is not part of `make test`:
// speed is measured here, never asserted in tests.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	_ "net/http/pprof" // FLINKSLINK_BENCH_PPROF
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"flinkslink/flinks/flinkstest"
	"flinkslink/store/pgtest"
)

// The bare echo server the one-core comparison measures against: this test
// binary, re-executed with FLINKSLINK_BENCH_BARE=1.
func init() {
	// FLINKSLINK_BENCH_PPROF=127.0.0.1:6060 make bench serves net/http/pprof
	// from the app process that the 10,000-link part measures, to see where
	// its time and memory go.
	if addr := os.Getenv("FLINKSLINK_BENCH_PPROF_APP"); addr != "" && os.Getenv("FLINKSLINK_TEST_MAIN") == "1" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	if os.Getenv("FLINKSLINK_BENCH_BARE") != "1" {
		return
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/hello", func(c echo.Context) error { return c.String(http.StatusOK, "hello") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Printf("msg=listening url=http://%s\n", ln.Addr())
	_ = http.Serve(ln, e)
	os.Exit(0)
}

// benchOut collects the report's lines; they are printed together at the end.
type benchOut struct {
	mu    sync.Mutex
	lines []string
}

func (o *benchOut) add(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	o.lines = append(o.lines, line)
	fmt.Println(line) // as it goes, too
}

func TestBench(t *testing.T) {
	raiseFileLimit(t)
	out := &benchOut{}
	out.add("flinkslink bench, %s", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	out.add("machine: %s", machine())
	started := time.Now()
	// FLINKSLINK_BENCH_ONLY=onecore,chromium,10k runs some parts only.
	only := os.Getenv("FLINKSLINK_BENCH_ONLY")
	for _, part := range []struct {
		name string
		run  func(*testing.T, *benchOut)
	}{{"onecore", benchOneCore}, {"chromium", benchChromium},
		{"10k", func(t *testing.T, o *benchOut) { benchTenThousand(t, o, tenK{}) }},
		{"10k-h2c", func(t *testing.T, o *benchOut) { benchTenThousand(t, o, tenK{h2c: true}) }},
		{"10k-pg", func(t *testing.T, o *benchOut) { benchTenThousand(t, o, tenK{postgres: true, instances: 1}) }},
		{"10k-pg3", func(t *testing.T, o *benchOut) { benchTenThousand(t, o, tenK{postgres: true, instances: 3}) }}} {
		if only == "" || slices.Contains(strings.Split(only, ","), part.name) {
			part.run(t, out)
		}
	}
	out.add("bench ran %s", time.Since(started).Round(time.Second))
	fmt.Println("\n=== summary ===")
	for _, l := range out.lines {
		fmt.Println(l)
	}
}

// ---------------------------------------------------------------------------
// The fake Flinks: every card answers 202 until the bench marks it ready.

type benchCard struct {
	loginID, rid string
	ready        bool
	pending      []time.Time // each 202 it answered (GetAccountsDetail's first)
	async        []time.Time // each GetAccountsDetailAsync call
	ok           time.Time   // when it answered the data
}

type benchFlinks struct {
	URL     string // the API base: scheme, host, /v3/{customerId}
	connect string
	mu      sync.Mutex
	byLogin map[string]*benchCard
	byRID   map[string]*benchCard
	tokens  int
}

func newBenchFlinks(t *testing.T) *benchFlinks {
	f := &benchFlinks{byLogin: map[string]*benchCard{}, byRID: map[string]*benchCard{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	f.URL = srv.URL + "/v3/" + flinkstest.CustomerID
	f.connect = srv.URL + "/v2/"
	return f
}

// card is the card of loginID, created on first use.
func (f *benchFlinks) card(loginID string) *benchCard {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cardLocked(loginID)
}

func (f *benchFlinks) cardLocked(loginID string) *benchCard {
	c := f.byLogin[loginID]
	if c == nil {
		c = &benchCard{loginID: loginID, rid: fmt.Sprintf("req-%d", len(f.byLogin)+1)}
		f.byLogin[loginID], f.byRID[c.rid] = c, c
	}
	return c
}

func (f *benchFlinks) setReady(loginID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cardLocked(loginID).ready = true
}

// snapshot copies a card's log.
func (f *benchFlinks) snapshot(loginID string) benchCard {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := *f.cardLocked(loginID)
	c.pending, c.async = slices.Clone(c.pending), slices.Clone(c.async)
	return c
}

func (f *benchFlinks) serve(w http.ResponseWriter, r *http.Request) {
	endpoint, id, req, ok := readFlinksCall(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	reply := func(status int, body string) { replyJSON(w, status, body) }
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch endpoint {
	case "GenerateAuthorizeToken":
		f.tokens++
		reply(200, fmt.Sprintf(`{"HttpStatusCode":200,"Token":%q}`, flinkstest.TokenN(f.tokens)))
	case "Authorize":
		c := f.cardLocked(req.LoginID)
		reply(200, flinkstest.AuthorizedBody(c.rid, c.loginID))
	case "GetAccountsDetail", "GetAccountsDetailAsync":
		rid := req.RequestID
		if endpoint == "GetAccountsDetailAsync" {
			rid = id
		}
		c := f.byRID[rid]
		if c == nil {
			reply(400, `{"HttpStatusCode":400,"FlinksCode":"SESSION_NONEXISTENT","Message":"unknown RequestId"}`)
			return
		}
		if endpoint == "GetAccountsDetailAsync" {
			c.async = append(c.async, now)
		}
		if c.ready {
			c.ok = now
			reply(200, flinkstest.DetailBody(c.rid, c.loginID))
			return
		}
		c.pending = append(c.pending, now)
		reply(202, flinkstest.PendingBody("OPERATION_PENDING", c.rid))
	default:
		http.NotFound(w, r)
	}
}

// benchEnv configures the app for the fake Flinks.
func benchEnv(f *benchFlinks, extra map[string]string) map[string]string {
	env := map[string]string{
		"FLINKS_API_URL":      f.URL,
		"FLINKS_CONNECT_URL":  f.connect,
		"FLINKS_API_KEY":      "bench-api-key",
		"FLINKS_SECRET_KEY":   "bench-secret-key",
		"FLINKS_POLL_TIMEOUT": "2h",
		"RATE_LIMITS":         "off",
		"LOG_LEVEL":           "info", // startProcess waits for "listening"
	}
	// The Makefile builds the real program for the bench to measure; a
	// profile needs this test binary's hook (see TestMain).
	if bin := os.Getenv("FLINKSLINK_BENCH_APP"); bin != "" && os.Getenv("FLINKSLINK_BENCH_PPROF") == "" {
		env[appBinaryEnv] = bin
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// ---------------------------------------------------------------------------
// Sessions and links, made as a browser makes them.

type benchSession struct {
	base   string
	client *http.Client
	tag    string
}

func newBenchSession(t *testing.T, base string, conns int) *benchSession {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	s := &benchSession{base: base, client: &http.Client{Jar: jar, Transport: tr, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := s.client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	src, _ := doc.Find("[data-testid=connect-iframe]").Attr("src")
	u, err := url.Parse(src)
	if err != nil || u.Query().Get("tag") == "" {
		t.Fatalf("landing page: no Connect tag in %q", src)
	}
	s.tag = u.Query().Get("tag")
	return s
}

// link follows Connect's redirect for loginID and returns the link's path.
func (s *benchSession) link(loginID string) (string, error) {
	resp, err := s.client.Get(callbackURL(s.base, loginID, s.tag))
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/links/") {
		return "", fmt.Errorf("callback answered %d → %q", resp.StatusCode, loc)
	}
	return loc, nil
}

func (s *benchSession) cookieHeader() string {
	u, _ := url.Parse(s.base)
	var parts []string
	for _, c := range s.client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func benchLoginID(i int) string { return fmt.Sprintf("%08x-bbbb-4ccc-8ddd-%012x", i, i) }

var (
	statusURLRE = regexp.MustCompile(`hx-get="(/links/[^"?]+/status\?v=\d+)"`)
	pollsRE     = regexp.MustCompile(`data-testid="polls">(\d+)<`)
	stateRE     = regexp.MustCompile(`id="link-status"[^>]*data-state="([a-z_]+)"`)
	cursorRE    = regexp.MustCompile(`<input type="hidden" name="(event|call|run_event|run_call)" value="(\d+)"`)
)

// statusOf reads a link's state and polls from its status fragment.
func (s *benchSession) statusOf(path string) (string, int, error) {
	req, _ := http.NewRequest(http.MethodGet, s.base+path+"/status", nil)
	req.Header.Set("HX-Request", "true")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	st, polls := "", 0
	if m := stateRE.FindSubmatch(b); m != nil {
		st = string(m[1])
	}
	if m := pollsRE.FindSubmatch(b); m != nil {
		polls, _ = strconv.Atoi(string(m[1]))
	}
	return st, polls, nil
}

func (s *benchSession) waitState(t *testing.T, path string, ok func(string, int) bool, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		st, polls, err := s.statusOf(path)
		if err == nil && ok(st, polls) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s with %d polls after %v (%v)", path, st, polls, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// 1. One core: the status answer against a bare echo handler.

func benchOneCore(t *testing.T, out *benchOut) {
	fl := newBenchFlinks(t)
	env := benchEnv(fl, map[string]string{"FLINKS_POLL_INTERVAL": "1h", "GOMAXPROCS": "1"})
	app := startProcess(t, t.TempDir(), env, "taskset", "-c", "0")
	bare := startProcess(t, t.TempDir(), map[string]string{"FLINKSLINK_BENCH_BARE": "1", "GOMAXPROCS": "1"}, "taskset", "-c", "0")

	s := newBenchSession(t, app.base, 4)
	readyLogin := benchLoginID(900001)
	fl.setReady(readyLogin)
	pending, err := s.link(benchLoginID(900000))
	if err != nil {
		t.Fatal(err)
	}
	ready, err := s.link(readyLogin)
	if err != nil {
		t.Fatal(err)
	}
	s.waitState(t, pending, func(st string, n int) bool { return st == "pending" && n >= 1 }, time.Minute)
	s.waitState(t, ready, func(st string, _ int) bool { return st == "ready" }, time.Minute)

	// The requests a link page's htmx makes: a status poll with the version
	// it shows (0: out of date, so the answer comes at once, as when a change
	// wakes it) and the timeline's cursor.
	pollURL := func(path string) string {
		resp, err := s.client.Get(app.base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		q := url.Values{"v": {"0"}}
		for _, m := range cursorRE.FindAllSubmatch(b, -1) {
			q.Set(string(m[1]), string(m[2]))
		}
		return app.base + path + "/status?" + q.Encode()
	}
	targets := []struct {
		name, url string
		pid       int
		htmx      bool
	}{
		{"bare echo \"hello\"", bare.base + "/hello", bare.cmd.Process.Pid, false},
		{"status, pending", pollURL(pending), app.cmd.Process.Pid, true},
		{"status, ready (summary)", pollURL(ready), app.cmd.Process.Pid, true},
	}
	type result struct {
		reqs    int
		errs    int
		cpu     time.Duration
		elapsed time.Duration
	}
	results := make([]result, len(targets))
	const rounds, each, conc = 3, 3 * time.Second, 16
	cookie := s.cookieHeader()
	for range rounds { // interleaved: a slow spell of the machine hits all three
		for i, tg := range targets {
			hdr := http.Header{}
			if tg.htmx {
				hdr.Set("HX-Request", "true")
				hdr.Set("Cookie", cookie)
			}
			cpu0 := processCPU(t, tg.pid)
			start := time.Now()
			n, errs := loadFor(tg.url, hdr, conc, each)
			results[i].elapsed += time.Since(start)
			results[i].cpu += processCPU(t, tg.pid) - cpu0
			results[i].reqs += n
			results[i].errs += errs
		}
	}
	out.add("")
	out.add("## One core: the server pinned to CPU 0 (GOMAXPROCS=1), %d keep-alive clients on CPU 1, %d × %v each, interleaved", conc, rounds, each)
	out.add("| answer | requests/s | server CPU per request | vs bare (CPU) | vs bare (throughput) | errors |")
	out.add("|---|---|---|---|---|---|")
	bareCPU := float64(results[0].cpu) / float64(max(results[0].reqs, 1))
	bareRate := float64(results[0].reqs) / results[0].elapsed.Seconds()
	for i, tg := range targets {
		r := results[i]
		perReq := float64(r.cpu) / float64(max(r.reqs, 1))
		rate := float64(r.reqs) / r.elapsed.Seconds()
		out.add("| %s | %.0f | %.1f µs | %.2f× | %.2f× | %d |", tg.name, rate, perReq/1e3, perReq/bareCPU, bareRate/rate, r.errs)
	}
}

// loadFor sends GETs to u from conc keep-alive connections for d; it
// returns the answers and the failures (anything but a 200).
func loadFor(u string, hdr http.Header, conc int, d time.Duration) (int, int) {
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var n, errs atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for time.Now().Before(stop) {
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				req.Header = hdr.Clone()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return int(n.Load()), int(errs.Load())
}

// ---------------------------------------------------------------------------
// 2. Real Chromium: Flinks' 200 → the summary on screen; requests while pending.

func benchChromium(t *testing.T, out *benchOut) {
	const links = 5
	const interval = 30 * time.Second // nothing changes between two polls: the idle wait shows
	fl := newBenchFlinks(t)
	app := startProcess(t, t.TempDir(), benchEnv(fl, map[string]string{"FLINKS_POLL_INTERVAL": interval.String()}))
	s := newBenchSession(t, app.base, 4)
	var paths, logins []string
	for i := range links {
		login := benchLoginID(800000 + i)
		p, err := s.link(login)
		if err != nil {
			t.Fatal(err)
		}
		paths, logins = append(paths, p), append(logins, login)
	}
	for _, p := range paths {
		s.waitState(t, p, func(st string, n int) bool { return st == "pending" && n >= 1 }, time.Minute)
	}

	browser := newBrowser(t)
	browser, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	u, _ := url.Parse(app.base)
	if _, err := chromedp.Run(browser, chromedp.Navigate(app.base+"/healthz")); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.client.Jar.Cookies(u) {
		if _, err := chromedp.Call(browser, network.SetCookie, network.SetCookieParams{Name: c.Name, Value: c.Value, URL: app.base}); err != nil {
			t.Fatal(err)
		}
	}
	// One tab per link. The page notes, on the browser's clock (the same
	// machine's), when the summary appears.
	const watch = `(() => {
		window.__summaryAt = 0;
		const seen = () => { if (!window.__summaryAt && document.querySelector("[data-testid=summary]")) window.__summaryAt = performance.timeOrigin + performance.now(); };
		new MutationObserver(seen).observe(document.documentElement, {subtree: true, childList: true});
		seen();
		return true;
	})()`
	tabs := make([]context.Context, links)
	opened := make([]time.Time, links)
	for i, p := range paths {
		tab, cancelTab := chromedp.NewContext(browser)
		defer cancelTab()
		if _, err := chromedp.Run(tab, chromedp.Navigate(app.base+p)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](watch)); err != nil {
			t.Fatal(err)
		}
		tabs[i], opened[i] = tab, time.Now()
	}
	for _, l := range logins {
		fl.setReady(l) // the next poll of each gets the data
	}
	var lat []time.Duration
	var reqs, idleReqs []int
	var pendingFor []time.Duration
	for i, tab := range tabs {
		var at float64
		deadline := time.Now().Add(2 * interval)
		for at == 0 {
			v, err := chromedp.Run(tab, chromedp.Evaluate[float64](`window.__summaryAt`))
			if err != nil {
				t.Fatal(err)
			}
			if at = v; at == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("link %d: no summary on screen", i)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		shown := time.UnixMicro(int64(at * 1000))
		ok := fl.snapshot(logins[i]).ok
		lat = append(lat, shown.Sub(ok))
		// The status requests this page made (Chromium's resource timing).
		starts, err := chromedp.Run(tab, chromedp.Evaluate[[]float64](`performance.getEntriesByType("resource").filter(e => e.name.includes("/status")).map(e => performance.timeOrigin + e.startTime)`))
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, len(starts))
		idle := 0
		for _, st := range starts {
			if time.UnixMicro(int64(st * 1000)).Before(ok) {
				idle++
			}
		}
		idleReqs = append(idleReqs, idle)
		pendingFor = append(pendingFor, ok.Sub(opened[i]))
	}
	slices.Sort(lat)
	out.add("")
	out.add("## Real Chromium, %d links, Flinks polled every %v", links, interval)
	out.add("- Flinks' 200 → summary on screen: median %v, max %v (each: %v)", ms(lat[len(lat)/2]), ms(lat[len(lat)-1]), msList(lat))
	out.add("- status requests per page: %v in all; while pending with nothing changing (%v each): %v", reqs, roundList(pendingFor), idleReqs)
}

// ---------------------------------------------------------------------------
// 3. 10,000 pending links, each watched by a browser-like client.

// tenK is how the 10,000 links are served.
type tenK struct {
	// h2c: the app also speaks HTTP/2 without TLS (HTTP2_CLEARTEXT=on) and
	// each session's client multiplexes its links' long polls on one
	// connection, as a load balancer that speaks HTTP/2 to the app does.
	h2c bool
	// postgres: the app runs on a throwaway Postgres (DATABASE_URL), as
	// instances app processes sharing it; sessions go round-robin to them.
	postgres  bool
	instances int
}

func benchTenThousand(t *testing.T, out *benchOut, mode tenK) {
	h2c := mode.h2c
	n := max(mode.instances, 1)
	const (
		sessions = 100
		perSess  = 100
		links    = sessions * perSess
		interval = 10 * time.Second
		window   = 60 * time.Second
	)
	fl := newBenchFlinks(t)
	dir := t.TempDir()
	env := benchEnv(fl, map[string]string{"FLINKS_POLL_INTERVAL": interval.String()})
	if h2c {
		env["HTTP2_CLEARTEXT"] = "on"
	}
	if mode.postgres {
		env["DATABASE_URL"] = pgtest.NewDatabase(t)
		env["SESSION_SECRET"] = strings.Repeat("s", 40)
		env["LOGINID_KEY"] = strings.Repeat("k", 40)
	}
	wide := []string{"taskset", "-c", "0,1"} // the bench itself runs on CPU 1 only
	p1 := startProcess(t, dir, env, wide...)

	// Make the links: 100 sessions, each following 100 Connect redirects in turn.
	start := time.Now()
	ss := make([]*benchSession, sessions)
	paths := make([]string, links)
	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, 32)
	for si := range sessions {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ss[si] = newBenchSession(t, p1.base, perSess+8)
			for k := range perSess {
				i := si*perSess + k
				p, err := ss[si].link(benchLoginID(i))
				if err != nil {
					failed.Add(1)
					continue
				}
				paths[i] = p
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d redirects failed", failed.Load())
	}
	made := time.Since(start)
	// Every fetch has had Flinks' first 202.
	for deadline := time.Now().Add(3 * time.Minute); ; {
		n := 0
		fl.mu.Lock()
		for _, c := range fl.byLogin {
			if len(c.pending) > 0 {
				n++
			}
		}
		fl.mu.Unlock()
		if n == links {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d fetches reached Flinks' first 202", n, links)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A fresh process on the same database: it resumes the 10,000 pending
	// fetches, and nothing of the burst that made them is in its memory.
	if _, code := p1.terminate(30 * time.Second); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
	if addr := os.Getenv("FLINKSLINK_BENCH_PPROF"); addr != "" {
		env["FLINKSLINK_BENCH_PPROF_APP"] = addr
	}
	var apps []*appProcess
	for k := range n {
		d := dir // the SQLite database p1 made; other instances share Postgres
		if k > 0 {
			d = filepath.Join(dir, fmt.Sprint(k))
		}
		apps = append(apps, startProcess(t, d, env, wide...))
	}
	for si, s := range ss {
		s.base = apps[si%n].base
		if h2c {
			tr := &http.Transport{Protocols: new(http.Protocols)}
			tr.Protocols.SetUnencryptedHTTP2(true)
			t.Cleanup(tr.CloseIdleConnections)
			s.client.Transport = tr
		}
	}
	time.Sleep(2*interval + interval/2) // every fetch resumed and polled twice
	var rssIdle, anonIdle []int64
	for _, a := range apps {
		rssIdle = append(rssIdle, rss(t, a.cmd.Process.Pid))
		anonIdle = append(anonIdle, rssOf(t, a.cmd.Process.Pid, "RssAnon:"))
	}

	ctx, stopClients := context.WithCancel(context.Background())
	var (
		mu        sync.Mutex
		late      []time.Duration // a change shown: answer − the 202 it shows
		probe     []time.Duration // answers to immediate status requests
		errs      atomic.Int64
		answers   atomic.Int64
		changes   atomic.Int64
		maxRSS    = make([]int64, n)
		hammered  = benchLoginID(0)
		hammerN   atomic.Int64
		hammerBad atomic.Int64
	)
	loginOf := func(i int) string { return benchLoginID(i) }
	var clients sync.WaitGroup
	for i := range links {
		s := ss[i/perSess]
		clients.Go(func() {
			watchLink(ctx, s, paths[i], func(polls int, at time.Time, changed bool) {
				answers.Add(1)
				if !changed || polls < 1 {
					return
				}
				changes.Add(1)
				// Against the newest 202 Flinks had answered by then.
				c := fl.snapshot(loginOf(i))
				k, _ := slices.BinarySearchFunc(c.pending, at, func(p, at time.Time) int { return p.Compare(at) })
				if k > 0 {
					mu.Lock()
					late = append(late, at.Sub(c.pending[k-1]))
					mu.Unlock()
				}
			}, func() { errs.Add(1) })
		})
	}
	// Someone asking 20 times a second, without waiting, for one link.
	clients.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if _, _, err := ss[0].statusOf(paths[0]); err != nil && ctx.Err() == nil {
				hammerBad.Add(1)
			}
			hammerN.Add(1)
		}
	})
	// A prober: immediate status answers (no version) on random links.
	clients.Go(func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for k := 0; ; k++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			i := (k * 7919) % links
			t0 := time.Now()
			if _, _, err := ss[i/perSess].statusOf(paths[i]); err != nil {
				if ctx.Err() == nil {
					errs.Add(1)
				}
				continue
			}
			mu.Lock()
			probe = append(probe, time.Since(t0))
			mu.Unlock()
		}
	})
	time.Sleep(interval) // every watcher connected and waiting
	measureFrom := time.Now()
	answers.Store(0)
	changes.Store(0)
	mu.Lock()
	late, probe = late[:0], probe[:0]
	mu.Unlock()
	errs.Store(0)
	for time.Since(measureFrom) < window {
		for k, a := range apps {
			maxRSS[k] = max(maxRSS[k], rss(t, a.cmd.Process.Pid))
		}
		time.Sleep(time.Second)
	}
	measureTo := time.Now()
	stopClients()
	clients.Wait()

	// Flinks' pace: the gaps between consecutive polls of each card in the window.
	var gaps, hammerGaps []time.Duration
	polls := 0
	for i := range links {
		c := fl.snapshot(loginOf(i))
		for k := 1; k < len(c.async); k++ {
			if c.async[k-1].Before(measureFrom) || c.async[k].After(measureTo) {
				continue
			}
			g := c.async[k].Sub(c.async[k-1])
			gaps = append(gaps, g)
			if loginOf(i) == hammered {
				hammerGaps = append(hammerGaps, g)
			}
		}
		for _, at := range c.async {
			if !at.Before(measureFrom) && !at.After(measureTo) {
				polls++
			}
		}
	}
	dev := make([]time.Duration, len(gaps))
	for i, g := range gaps {
		dev[i] = max(g-interval, interval-g)
	}
	slices.Sort(dev)
	slices.Sort(late)
	slices.Sort(probe)
	out.add("")
	proto := "HTTP/1.1, a connection per client"
	if h2c {
		proto = "HTTP/2 without TLS (HTTP2_CLEARTEXT=on), each session's clients on one connection, as behind a load balancer that speaks HTTP/2 to the app"
	}
	if mode.postgres {
		proto += fmt.Sprintf("; Postgres (DATABASE_URL), %d instance(s), the sessions round-robin over them", n)
	}
	out.add("## %d pending links, Flinks polled every %v, one browser-like client on each (a long poll with the timeline's cursor); %s", links, interval, proto)
	out.add("- made through %d sessions' Connect redirects in %v; measured in fresh processes that resumed them, over %v", sessions, made.Round(time.Second), window)
	out.add("- RSS: %s with no client (%s of it the heap and stacks, the rest the program's own pages); %s (max) with %d clients waiting",
		mbList(rssIdle), mbList(anonIdle), mbList(maxRSS), links)
	out.add("- a change reaches its client (answer − Flinks' newest 202 before it): p50 %v, p99 %v, max %v over %d changes",
		ms(pct(late, 50)), ms(pct(late, 99)), ms(pct(late, 100)), len(late))
	out.add("- immediate status answers (a prober, 50/s): p50 %v, p99 %v, max %v over %d", ms(pct(probe, 50)), ms(pct(probe, 99)), ms(pct(probe, 100)), len(probe))
	out.add("- status requests: %d answers, %d showing a change (%.2f requests per change); errors: %d", answers.Load(), changes.Load(),
		float64(answers.Load())/float64(max(changes.Load(), 1)), errs.Load())
	out.add("- Flinks' Async polls: %d in the window (%.0f/s); gap from the %v interval: p50 %v, p99 %v (%.1f %%), max %v",
		polls, float64(polls)/window.Seconds(), interval, ms(pct(dev, 50)), ms(pct(dev, 99)), 100*float64(pct(dev, 99))/float64(interval), ms(pct(dev, 100)))
	slices.Sort(hammerGaps)
	out.add("- one client asking 20 times a second (%d requests, %d failed): its card was polled %d times in the window, gaps %v",
		hammerN.Load(), hammerBad.Load(), len(hammerGaps)+1, roundList(hammerGaps))
}

// watchLink long-polls a link's status as its page does, until ctx ends:
// each answer names the next version and the timeline's cursor.
func watchLink(ctx context.Context, s *benchSession, path string, answered func(polls int, at time.Time, changed bool), failed func()) {
	next := path + "/status?v=0"
	cursor := url.Values{}
	lastPolls := -1
	for ctx.Err() == nil {
		u := next
		if len(cursor) > 0 {
			u += "&" + cursor.Encode()
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+u, nil)
		req.Header.Set("HX-Request", "true")
		resp, err := s.client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				failed()
				time.Sleep(time.Second) // as the page's "every 1s" retry
			}
			continue
		}
		b, err := io.ReadAll(bufio.NewReader(resp.Body))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			if ctx.Err() == nil {
				failed()
				time.Sleep(time.Second)
			}
			continue
		}
		at := time.Now()
		polls := -1
		if m := pollsRE.FindSubmatch(b); m != nil {
			polls, _ = strconv.Atoi(string(m[1]))
		}
		answered(polls, at, lastPolls >= 0 && polls != lastPolls)
		lastPolls = polls
		m := statusURLRE.FindSubmatch(b)
		if m == nil {
			return // finished: nothing more to watch
		}
		next = string(m[1])
		if cs := cursorRE.FindAllSubmatch(b, -1); len(cs) > 0 {
			cursor = url.Values{}
			for _, c := range cs {
				cursor.Set(string(c[1]), string(c[2]))
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Measuring.

// processCPU is the CPU time a process has used (user + system).
func processCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// rss is a process's resident set size in bytes.
func rss(t *testing.T, pid int) int64 { return rssOf(t, pid, "VmRSS:") }

// rssOf is one of the resident-memory lines of /proc/PID/status, in bytes:
// VmRSS (all), RssAnon (heap, stacks, C allocations) or RssFile (the
// program's mapped pages).
func rssOf(t *testing.T, pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s for %d", field, pid)
	return 0
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0f ms", float64(d)/1e6)
}

func msList(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, ms(d))
	}
	return strings.Join(s, ", ")
}

func roundList(ds []time.Duration) []string {
	var s []string
	for _, d := range ds {
		s = append(s, d.Round(100*time.Millisecond).String())
	}
	return s
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// mbList is mb of each instance's figure.
func mbList(bs []int64) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = mb(b)
	}
	return strings.Join(parts, " + ")
}

func machine() string {
	model, cores := "unknown CPU", 0 // (runtime.NumCPU sees only the bench's own CPU)
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				cores++
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				mem = fmt.Sprintf(", %.0f GB", float64(kb)/1e6)
			}
		}
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	return fmt.Sprintf("%d cores (%s)%s, Linux %s, %s", cores, model, mem, strings.TrimSpace(string(kernel)), runtime.Version())
}

// raiseFileLimit lets the bench and its children hold 10,000 connections each.
func raiseFileLimit(t *testing.T) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	// The app holds one connection per client, the bench one per client
	// plus Flinks': each process needs a little over 10,000.
	if l.Cur < 12000 {
		t.Fatalf("open files limit %d: the 10,000-link run needs 12,000 (ulimit -n)", l.Cur)
	}
}
