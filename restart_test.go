package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	_ "github.com/mattn/go-sqlite3"

	"flinkslink/store"
	"flinkslink/store/pgtest"
)

// TestMain lets the test binary stand in for the app's binary: started with
// FLINKSLINK_TEST_MAIN=1 it runs main(), so the process-level tests below kill
// and restart the real program (race detector included) without a go build.
func TestMain(m *testing.M) {
	if os.Getenv("FLINKSLINK_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	pgtest.Main(m) // stops the throwaway Postgres, if a test started it
}

// appProcess is the app running as a child process.
type appProcess struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	logs *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, once done is closed
}

var listeningRE = regexp.MustCompile(`msg=listening url=(http://\S+)`)

// startProcess starts the app as a child process on a free port with its
// database in dataDir and the embedded sandbox, and waits until it listens.
func startProcess(t *testing.T, dataDir string, env map[string]string, prefix ...string) *appProcess {
	t.Helper()
	p := spawnProcess(t, dataDir, env, prefix...)
	deadline := time.After(30 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(p.logs.String()); m != nil {
			p.base = m[1]
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("app exited before listening: %v\n%s", p.err, p.logs.String())
		case <-deadline:
			t.Fatalf("app did not listen within 30 s:\n%s", p.logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// spawnProcess starts the app as a child process without waiting for it;
// prefix, if any, runs it (taskset -c 0: pinned to a core, for the bench).
func spawnProcess(t *testing.T, dataDir string, env map[string]string, prefix ...string) *appProcess {
	t.Helper()
	full := map[string]string{
		"FLINKSLINK_TEST_MAIN": "1",
		"ADDR":                 "127.0.0.1:0",
		"DB_PATH":              filepath.Join(dataDir, "app.db"),
		"SANDBOX_TIME_SCALE":   "0.3",
		"FLINKS_POLL_INTERVAL": "200ms",
		"LOG_LEVEL":            "info",
	}
	for k, v := range env {
		full[k] = v
	}
	// The app is this test binary (TestMain runs main), unless the bench
	// measures the real one (appBinaryEnv).
	bin := os.Args[0]
	if b := full[appBinaryEnv]; b != "" {
		bin = b
		delete(full, appBinaryEnv)
	}
	argv := append(append([]string(nil), prefix...), bin)
	cmd := exec.Command(argv[0], argv[1:]...)
	for _, kv := range os.Environ() {
		// Only the child's own configuration: nothing from the developer's shell.
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "FLINKS_") && !strings.HasPrefix(k, "SANDBOX_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range full {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &appProcess{t: t, cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		// The child is this race-enabled test binary: a race in the app
		// process is reported on its stderr.
		if strings.Contains(p.logs.String(), "WARNING: DATA RACE") {
			t.Error("the app process reported a data race")
		}
		if t.Failed() {
			t.Logf("app log (pid %d):\n%s", cmd.Process.Pid, p.logs.String())
		}
	})
	return p
}

// appBinaryEnv, in spawnProcess's env, names the program to run instead of
// this test binary.
const appBinaryEnv = "FLINKSLINK_APP_BINARY"

// kill sends SIGKILL and waits until the process is gone.
func (p *appProcess) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// terminate sends SIGTERM and returns how long the process took to exit, and
// its exit code (-1 when it did not exit within limit; it is then killed).
func (p *appProcess) terminate(limit time.Duration) (time.Duration, int) {
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		p.kill()
		return time.Since(start), -1
	}
	return time.Since(start), p.cmd.ProcessState.ExitCode()
}

// openStore opens the app's database the way the app does (its key file
// included), for assertions; the app must not be running.
func openAppStore(t *testing.T, dataDir string) *store.DB {
	t.Helper()
	key, err := store.LoadOrCreateKey(filepath.Join(dataDir, "loginid.key"), 32)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.Context(), filepath.Join(dataDir, "app.db"), key)
	if err != nil {
		t.Fatalf("the database does not open after the process stopped: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// linkVia passes Connect as username and follows the redirect to our
// callback; it returns the link page URL.
func linkVia(t *testing.T, b *httpBrowser, base, username string) string {
	t.Helper()
	redirect := connectThroughSandbox(t, b, base, username)
	resp, _ := b.get(redirect.String())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback answered %d, want 303", resp.StatusCode)
	}
	return resp.Header.Get("Location") // /links/{id}
}

// linkStatus polls /links/{id}/status like htmx does; it returns the state and
// the number of 202s shown.
func linkStatus(t *testing.T, b *httpBrowser, base, linkPath string) (string, int, *goquery.Document) {
	t.Helper()
	_, doc := b.get(base+linkPath+"/status", "HX-Request", "true")
	state, _ := doc.Find("#link-status").Attr("data-state")
	polls, _ := strconv.Atoi(strings.TrimSpace(doc.Find("[data-testid=polls]").Text()))
	return state, polls, doc
}

// waitLink polls until until(state, polls) holds; terminal states other than
// the awaited one fail the test.
func waitLink(t *testing.T, b *httpBrowser, base, linkPath string, timeout time.Duration, until func(state string, polls int) bool) *goquery.Document {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		state, polls, doc := linkStatus(t, b, base, linkPath)
		if until(state, polls) {
			return doc
		}
		if state == "failed" || state == "timed_out" || time.Now().After(deadline) {
			html, _ := doc.Html()
			t.Fatalf("link %s is %s (%d polls):\n%s", linkPath, state, polls, html)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pendingPolled(state string, polls int) bool { return state == "pending" && polls >= 1 }
func isReady(state string, _ int) bool           { return state == "ready" }

// The app is killed with SIGKILL while Flinks is still collecting; started
// again on the same data, it resumes the same Flinks request and the link
// reaches ready, its timeline and call log from before the kill intact.
func TestRestartAfterSIGKILLResumesFetch(t *testing.T) {
	dir := t.TempDir()
	// Real time: the scrape lasts 10 s, ample to see it pending and polled
	// on a busy machine (a child process cannot take a test clock).
	env := map[string]string{"SANDBOX_TIME_SCALE": "1"}
	p1 := startProcess(t, dir, env)
	b := newHTTPBrowser(t)
	linkPath := linkVia(t, b, p1.base, "greatday_nomfa")
	waitLink(t, b, p1.base, linkPath, 10*time.Second, pendingPolled)
	p1.kill()
	id := strings.TrimPrefix(linkPath, "/links/")

	db := openAppStore(t, dir)
	before, err := db.Link(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if before.State != store.StatePending || before.RequestID == "" {
		t.Fatalf("after the kill the link is %s (request %q), want pending", before.State, before.RequestID)
	}
	eventsBefore, _ := db.Events(t.Context(), id)
	callsBefore, _ := db.Calls(t.Context(), id)
	db.Close()

	// Same data directory; another port: the browser keeps its session cookie.
	p2 := startProcess(t, dir, env)
	doc := waitLink(t, b, p2.base, linkPath, 60*time.Second, isReady)
	if n := doc.Find("[data-testid=account]").Length(); n < 3 {
		t.Errorf("summary shows %d accounts after the restart, want the sandbox's 3+", n)
	}
	if d, code := p2.terminate(30 * time.Second); code != 0 {
		t.Fatalf("SIGTERM: exit code %d after %v", code, d)
	}

	db = openAppStore(t, dir)
	events, _ := db.Events(t.Context(), id)
	calls, _ := db.Calls(t.Context(), id)
	if len(events) <= len(eventsBefore) {
		t.Fatalf("timeline has %d events after the restart, %d before", len(events), len(eventsBefore))
	}
	for i, e := range eventsBefore {
		if !reflect.DeepEqual(events[i], e) {
			t.Errorf("event %d changed across the restart: %+v, was %+v", i, events[i], e)
		}
	}
	if got := events[len(events)-1]; got.State != store.StateReady {
		t.Errorf("last event %s, want ready", got.State)
	}
	for i := 1; i < len(events); i++ {
		if events[i].At.Before(events[i-1].At) || events[i].ID <= events[i-1].ID {
			t.Errorf("events out of order at %d: %+v then %+v", i, events[i-1], events[i])
		}
	}
	if len(calls) <= len(callsBefore) {
		t.Fatalf("call log has %d calls after the restart, %d before", len(calls), len(callsBefore))
	}
	for i, c := range callsBefore {
		if calls[i].ID != c.ID || calls[i].Endpoint != c.Endpoint || calls[i].At != c.At || calls[i].StatusCode != c.StatusCode {
			t.Errorf("call %d changed across the restart: %+v, was %+v", i, calls[i], c)
		}
	}
	// The resumed fetch went on polling the request it was waiting for: no
	// new Authorize, and the data came from the same RequestId.
	for _, c := range calls[len(callsBefore):] {
		if c.Endpoint != "GetAccountsDetailAsync" || c.RequestID != before.RequestID {
			t.Errorf("after the restart the app called %s (request %q); want only polls of %q", c.Endpoint, c.RequestID, before.RequestID)
		}
	}
	if last := calls[len(calls)-1]; last.StatusCode != http.StatusOK {
		t.Errorf("last call answered %d, want 200 with the data", last.StatusCode)
	}
}

// SIGTERM while a fetch waits for its next poll: the app exits 0 at once,
// the link stays pending (not failed), and the next start finishes it.
func TestSIGTERMLeavesFetchResumable(t *testing.T) {
	dir := t.TempDir()
	// A long wait between polls: shutdown must cut it short.
	env := map[string]string{"FLINKS_POLL_INTERVAL": "30s"}
	p1 := startProcess(t, dir, env)
	b := newHTTPBrowser(t)
	linkPath := linkVia(t, b, p1.base, "greatday_nomfa")
	waitLink(t, b, p1.base, linkPath, 10*time.Second, pendingPolled)
	took, code := p1.terminate(30 * time.Second)
	if code != 0 {
		t.Fatalf("SIGTERM: exit code %d after %v, want 0", code, took)
	}
	// The fetch's 30 s wait was cancelled, not waited out until the
	// shutdown deadline.
	if logs := p1.logs.String(); !strings.Contains(logs, "will resume at next start") || strings.Contains(logs, "still stopping at the shutdown deadline") {
		t.Errorf("the log does not say the fetch stopped at once and will resume:\n%s", logs)
	}
	id := strings.TrimPrefix(linkPath, "/links/")
	db := openAppStore(t, dir)
	l, err := db.Link(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if l.State != store.StatePending || l.ErrorCode != "" {
		t.Fatalf("after SIGTERM the link is %s %q, want pending", l.State, l.ErrorCode)
	}
	events, _ := db.Events(t.Context(), id)
	for _, e := range events {
		if e.State.Terminal() {
			t.Errorf("shutdown recorded a terminal event: %+v", e)
		}
	}
	db.Close()

	p2 := startProcess(t, dir, map[string]string{"FLINKS_POLL_INTERVAL": "100ms"})
	waitLink(t, b, p2.base, linkPath, 15*time.Second, isReady)
}

// The app is killed with SIGKILL at random moments: while starting, while
// redirects arrive, while fetches poll and write. After every kill the
// database is intact and consistent, no acknowledged link is lost, and a
// last start finishes every link.
func TestRandomKillsKeepDatabaseConsistent(t *testing.T) {
	// FLINKSLINK_KILL_SEED replays a run: the seed is printed at the start.
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FLINKSLINK_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("FLINKSLINK_KILL_SEED=%q: %v", s, err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	fmt.Fprintf(os.Stderr, "TestRandomKillsKeepDatabaseConsistent: seed %d (replay with FLINKSLINK_KILL_SEED=%d)\n", seed, seed)
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	env := map[string]string{"SANDBOX_TIME_SCALE": "0.05", "FLINKS_POLL_INTERVAL": "20ms"}
	dbPath := filepath.Join(dir, "app.db")

	// Killed while starting (creating its key files, migrating the database).
	p := spawnProcess(t, dir, env)
	time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
	p.kill()

	type ack struct {
		b    *httpBrowser
		path string
	}
	var acked []ack
	users := []string{"greatday_nomfa", "test_ready", "test_flaky"}
	for i := range 5 {
		p := startProcess(t, dir, env)
		// Each iteration links new accounts: Connect first (nothing of ours
		// runs yet), then the redirects arrive together and the kill comes at
		// a random moment among them and the fetches they start.
		type pending struct {
			b        *httpBrowser
			callback string
		}
		var redirects []pending
		for _, u := range users {
			b := newHTTPBrowser(t)
			redirects = append(redirects, pending{b, connectThroughSandbox(t, b, p.base, u).String()})
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, r := range redirects {
			wg.Go(func() {
				resp, err := r.b.c.Get(r.callback)
				if err != nil {
					return // killed before it answered
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusSeeOther {
					mu.Lock()
					acked = append(acked, ack{r.b, resp.Header.Get("Location")})
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		p.kill()
		wg.Wait()
		n := checkConsistent(t, dbPath, fmt.Sprintf("after kill %d", i+1))
		t.Logf("after kill %d: %+v", i+1, n)
	}

	p = startProcess(t, dir, env)
	for _, a := range acked {
		waitLink(t, a.b, p.base, a.path, 60*time.Second, isReady)
	}
	if d, code := p.terminate(30 * time.Second); code != 0 {
		t.Fatalf("SIGTERM: exit code %d after %v", code, d)
	}
	n := checkConsistent(t, dbPath, "at the end")
	if n.unfinished != 0 || n.failed != 0 {
		t.Errorf("at the end: %+v, want every link ready", n)
	}
	if n.ready < len(acked) {
		t.Errorf("%d links ready, but %d redirects were acknowledged", n.ready, len(acked))
	}
}

type linkCounts struct{ ready, failed, unfinished int }

// checkConsistent checks the app's database (the app not running): SQLite's
// own checks, and that each link's state agrees with its snapshot and its
// timeline. A database that does not exist yet is fine.
func checkConsistent(t *testing.T, dbPath, when string) linkCounts {
	t.Helper()
	var n linkCounts
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		return n
	}
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var integrity string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("%s: integrity_check %q, %v", when, integrity, err)
	}
	rows, err := db.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	if rows.Next() {
		t.Errorf("%s: foreign_key_check reports orphans", when)
	}
	rows.Close()
	var migrated bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'links')`).Scan(&migrated); err != nil || !migrated {
		return n // killed before the first migration committed
	}
	rows, err = db.QueryContext(ctx, `
		SELECT l.id, l.state, l.fetch, l.error_code,
			(SELECT fetch FROM snapshots s WHERE s.link_id = l.id),
			(SELECT state FROM events e WHERE e.link_id = l.id ORDER BY id DESC LIMIT 1),
			(SELECT fetch FROM events e WHERE e.link_id = l.id ORDER BY id DESC LIMIT 1)
		FROM links l`)
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, state, code string
			fetch           int
			snapFetch       sql.NullInt64
			lastState       sql.NullString
			lastFetch       sql.NullInt64
		)
		if err := rows.Scan(&id, &state, &fetch, &code, &snapFetch, &lastState, &lastFetch); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		switch st := store.State(state); {
		case st == store.StateReady:
			n.ready++
			if !snapFetch.Valid || int(snapFetch.Int64) != fetch {
				t.Errorf("%s: link %s is ready without the snapshot of its fetch %d (%v)", when, id, fetch, snapFetch)
			}
		case st.Terminal():
			n.failed++
			if code == "" {
				t.Errorf("%s: link %s is %s without an error code", when, id, state)
			}
		default:
			n.unfinished++
			if snapFetch.Valid && int(snapFetch.Int64) == fetch {
				t.Errorf("%s: link %s is %s but has the snapshot of its current fetch", when, id, state)
			}
		}
		if lastState.String != state || int(lastFetch.Int64) != fetch {
			t.Errorf("%s: link %s is %s (fetch %d) but its timeline ends with %s (fetch %d)", when, id, state, fetch, lastState.String, lastFetch.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	return n
}
