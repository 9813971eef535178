package fetcher_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"flinkslink/flinks"
	"flinkslink/handlers/fetcher"
	"flinkslink/store"
	"flinkslink/store/pgtest"
)

// gatedFlinks plays Flinks' cached flow for any LoginId: Authorize, a 202, then
// it waits for release (or the context) before answering the data. It counts
// FetchCached runs per LoginId and how many ran at once for one LoginId.
type gatedFlinks struct {
	fail atomic.Pointer[flinks.Error]

	mu       sync.Mutex
	release  chan struct{}     // closed: pending fetches get their data
	runs     map[string]int    // LoginId → FetchCached runs
	running  map[string]int    // LoginId → FetchCached runs in flight
	overlap  int               // most runs in flight for one LoginId
	resumed  map[string]string // LoginId → ResumeRequestID of its last run
	entered  chan string       // receives the LoginId when a run is pending
	requests atomic.Int32
}

func newGatedFlinks() *gatedFlinks {
	return &gatedFlinks{release: make(chan struct{}), runs: map[string]int{}, running: map[string]int{},
		resumed: map[string]string{}, entered: make(chan string, 100)}
}

func (g *gatedFlinks) FetchCached(ctx context.Context, id string, o flinks.FetchOptions) (*flinks.AccountsDetail, error) {
	g.mu.Lock()
	g.runs[id]++
	g.running[id]++
	g.overlap = max(g.overlap, g.running[id])
	g.resumed[id] = o.ResumeRequestID
	release := g.release
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running[id]--
		g.mu.Unlock()
	}()
	rid := o.ResumeRequestID
	if rid == "" {
		rid = fmt.Sprintf("r%d", g.requests.Add(1))
		o.OnState(flinks.StateChange{Stage: flinks.StageAuthorizing})
		o.OnCall(flinks.Call{Endpoint: "Authorize", Method: "POST", StatusCode: 200, RequestID: rid, Attempt: 1, Started: time.Now()})
		o.OnState(flinks.StateChange{Stage: flinks.StageFetching, RequestID: rid})
		o.OnCall(flinks.Call{Endpoint: "GetAccountsDetail", Method: "POST", StatusCode: 202, FlinksCode: "OPERATION_PENDING", RequestID: rid, Attempt: 1, Started: time.Now()})
	}
	o.OnState(flinks.StateChange{Stage: flinks.StagePending, RequestID: rid, Polls: 1, NextPoll: time.Now().Add(time.Second)})
	g.entered <- id
	select {
	case <-release:
	case <-ctx.Done():
		o.OnState(flinks.StateChange{Stage: flinks.StageFailed, RequestID: rid, Err: ctx.Err()})
		return nil, ctx.Err()
	}
	if fe := g.fail.Load(); fe != nil {
		o.OnCall(flinks.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", StatusCode: fe.StatusCode, FlinksCode: fe.FlinksCode, RequestID: rid, Attempt: 2, Started: time.Now()})
		o.OnState(flinks.StateChange{Stage: flinks.StageFailed, RequestID: rid, Polls: 1, Err: fe})
		return nil, fe
	}
	o.OnCall(flinks.Call{Endpoint: "GetAccountsDetailAsync", Method: "GET", StatusCode: 200, RequestID: rid, Attempt: 2, Started: time.Now()})
	o.OnState(flinks.StateChange{Stage: flinks.StageReady, RequestID: rid, Polls: 1})
	return &flinks.AccountsDetail{RequestID: rid, Institution: "FlinksCapital", Accounts: []flinks.Account{
		{ID: "acc-" + id[:8], Title: "Chequing", AccountNumber: "7641238", Currency: "CAD", Balance: flinks.Balance{Current: amount(1000)}},
	}}, nil
}

// open lets the pending fetches have their data; later fetches wait for the next open.
func (g *gatedFlinks) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.release)
	g.release = make(chan struct{})
}

func (g *gatedFlinks) runsOf(id string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.runs[id]
}

func (g *gatedFlinks) waitEntered(t *testing.T) string {
	t.Helper()
	select {
	case id := <-g.entered:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("no fetch reached pending")
		return ""
	}
}

func linkIn(t *testing.T, db *store.DB, session, login string) store.Link {
	t.Helper()
	l, _, err := db.CreateLink(t.Context(), store.NewLink{SessionID: session, LoginID: login, Institution: "FlinksCapital"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func timeline(t *testing.T, db *store.DB, id string) []store.Event {
	t.Helper()
	events, err := db.Events(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func states(events []store.Event) string {
	var s []string
	for _, e := range events {
		s = append(s, string(e.State))
	}
	return strings.Join(s, ",")
}

// Two sessions (or tabs) linking the same LoginId, with repeated redirects
// arriving at once, make one Flinks fetch; every link shows its progress and
// gets the data.
func TestOneFetchPerLoginIDAcrossLinks(t *testing.T) {
	db := openStore(t)
	g := newGatedFlinks()
	f := fetcher.New(t.Context(), quiet(), db, g, fetcher.Options{})
	first := linkIn(t, db, "s1", loginID)
	// Redirects for the first link race each other.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { f.Start(first.ID, first.Fetch) })
	}
	wg.Wait()
	g.waitEntered(t)

	// Other sessions arrive while Flinks is still collecting.
	others := []store.Link{linkIn(t, db, "s2", loginID), linkIn(t, db, "s3", loginID)}
	for range 10 {
		for _, l := range others {
			wg.Go(func() { f.Start(l.ID, l.Fetch) })
		}
	}
	wg.Wait()
	// The attached links show the shared fetch's state before it ends.
	deadline := time.Now().Add(5 * time.Second)
	for _, l := range others {
		for {
			got, _ := db.Link(t.Context(), l.ID)
			if got.State == store.StatePending {
				if got.RequestID != "r1" {
					t.Errorf("attached link pending on %q, want the shared r1", got.RequestID)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("attached link %s still %s", l.ID, got.State)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	if n := f.Running(); n != 1 {
		t.Errorf("Running() = %d, want 1 fetch for one LoginId", n)
	}
	g.open()
	for _, l := range append([]store.Link{first}, others...) {
		if got := waitTerminal(t, db, l.ID); got.State != store.StateReady {
			t.Fatalf("link %s ended %s %s", l.ID, got.State, got.ErrorCode)
		}
		snap, err := db.Snapshot(t.Context(), l.ID)
		if err != nil || len(snap.Accounts) != 1 || snap.Accounts[0].ID != "acc-"+loginID[:8] {
			t.Errorf("link %s snapshot %+v, %v", l.ID, snap, err)
		}
	}
	f.Wait()
	if n := g.runsOf(loginID); n != 1 || g.overlap != 1 {
		t.Errorf("FetchCached ran %d times (%d at once), want once", n, g.overlap)
	}
	if got, want := states(timeline(t, db, first.ID)), "received,authorizing,fetching,pending,ready"; got != want {
		t.Errorf("first link timeline %s, want %s", got, want)
	}
	for _, l := range others {
		events := timeline(t, db, l.ID)
		if got, want := states(events), "received,pending,ready"; got != want {
			t.Errorf("attached link timeline %s, want %s", got, want)
		}
		if events[1].Note.Kind != store.NoteAttached {
			t.Errorf("attach event note %q", events[1].Note)
		}
		// The calls made after it attached are in its log too.
		calls, _ := db.Calls(t.Context(), l.ID)
		if len(calls) == 0 || calls[len(calls)-1].Endpoint != "GetAccountsDetailAsync" || calls[len(calls)-1].RequestID != "r1" {
			t.Errorf("attached link calls %+v, want the shared poll", calls)
		}
	}
	if n := f.Running(); n != 0 {
		t.Errorf("Running() = %d after the fetch ended", n)
	}
}

// "Try again" on one of the links that shared a failed fetch starts one new
// fetch for it alone; the other link keeps its failure until its own "Try
// again", which then attaches to the new fetch.
func TestTryAgainAfterSharedFailure(t *testing.T) {
	db := openStore(t)
	g := newGatedFlinks()
	g.fail.Store(&flinks.Error{Endpoint: "GetAccountsDetailAsync", StatusCode: 401, FlinksCode: "RETRY_LATER", Message: "try later"})
	f := fetcher.New(t.Context(), quiet(), db, g, fetcher.Options{})
	a, b := linkIn(t, db, "s1", loginID), linkIn(t, db, "s2", loginID)
	f.Start(a.ID, a.Fetch)
	g.waitEntered(t)
	f.Start(b.ID, b.Fetch)
	waitState(t, db, b.ID, store.StatePending)
	g.open()
	for _, l := range []store.Link{a, b} {
		if got := waitTerminal(t, db, l.ID); got.State != store.StateFailed || got.ErrorCode != "RETRY_LATER" {
			t.Fatalf("link ended %s %q, want failed RETRY_LATER", got.State, got.ErrorCode)
		}
	}
	if n := g.runsOf(loginID); n != 1 {
		t.Fatalf("FetchCached ran %d times for the shared fetch", n)
	}

	// Flinks recovers; A's person clicks "Try again".
	g.fail.Store(nil)
	a2, err := db.StartNewFetch(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Start(a2.ID, a2.Fetch)
	g.waitEntered(t)
	if got, _ := db.Link(t.Context(), b.ID); got.State != store.StateFailed || got.Fetch != 1 {
		t.Errorf("B changed to %s fetch %d on A's Try again", got.State, got.Fetch)
	}
	// B's person clicks "Try again" while A's new fetch runs: it attaches.
	b2, err := db.StartNewFetch(t.Context(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Start(b2.ID, b2.Fetch)
	waitState(t, db, b.ID, store.StatePending)
	g.open()
	for _, l := range []store.Link{a, b} {
		if got := waitTerminal(t, db, l.ID); got.State != store.StateReady || got.Fetch != 2 {
			t.Fatalf("link ended %s fetch %d, want ready in fetch 2", got.State, got.Fetch)
		}
	}
	f.Wait()
	if n := g.runsOf(loginID); n != 2 || g.overlap != 1 {
		t.Errorf("FetchCached ran %d times (%d at once), want 2 one after the other", n, g.overlap)
	}
}

// After a restart, the unfinished links of one LoginId resume as one fetch,
// polling the Flinks request they were waiting for; other LoginIds get their own.
func TestResumeGroupsByLoginID(t *testing.T) {
	db := openStore(t)
	const other = "11111111-2222-3333-4444-555555555555"
	pendingLink := linkIn(t, db, "s1", loginID)
	if err := db.RecordState(t.Context(), pendingLink.ID, 1, store.StateUpdate{State: store.StatePending, RequestID: "r9", Polls: 3}); err != nil {
		t.Fatal(err)
	}
	receivedLink := linkIn(t, db, "s2", loginID)
	otherLink := linkIn(t, db, "s1", other)

	g := newGatedFlinks()
	f := fetcher.New(t.Context(), quiet(), db, g, fetcher.Options{})
	n, err := f.Resume(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("Resume = %d, %v; want 3 links", n, err)
	}
	g.waitEntered(t)
	g.waitEntered(t)
	g.open()
	for _, l := range []store.Link{pendingLink, receivedLink, otherLink} {
		if got := waitTerminal(t, db, l.ID); got.State != store.StateReady {
			t.Fatalf("link ended %s", got.State)
		}
	}
	f.Wait()
	if g.runsOf(loginID) != 1 || g.runsOf(other) != 1 {
		t.Errorf("FetchCached runs %v, want one per LoginId", g.runs)
	}
	if g.resumed[loginID] != "r9" || g.resumed[other] != "" {
		t.Errorf("ResumeRequestID %v, want r9 for the pending LoginId and none for the other", g.resumed)
	}
	// The link that was only received follows the shared request too.
	if got, _ := db.Link(t.Context(), receivedLink.ID); got.RequestID != "r9" {
		t.Errorf("received link ended on request %q, want r9", got.RequestID)
	}
}

// A fetch whose every link went away stops calling Flinks.
func TestFetchStopsWhenNoLinkIsLeft(t *testing.T) {
	db := openStore(t)
	l := linkIn(t, db, "s1", loginID)
	stopped := make(chan struct{})
	f2 := fetcher.New(t.Context(), quiet(), db, flinksFunc(func(ctx context.Context, o flinks.FetchOptions) (*flinks.AccountsDetail, error) {
		o.OnState(flinks.StateChange{Stage: flinks.StagePending, RequestID: "r1", Polls: 1})
		if err := db.DeleteLink(context.Background(), l.ID); err != nil {
			t.Error(err)
		}
		o.OnState(flinks.StateChange{Stage: flinks.StagePending, RequestID: "r1", Polls: 2})
		select {
		case <-ctx.Done():
			close(stopped)
		case <-time.After(5 * time.Second):
		}
		return nil, ctx.Err()
	}), fetcher.Options{})
	f2.Start(l.ID, l.Fetch)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the fetch of a deleted link kept running")
	}
	f2.Wait()
	if n := f2.Running(); n != 0 {
		t.Errorf("Running() = %d", n)
	}
}

type flinksFunc func(ctx context.Context, o flinks.FetchOptions) (*flinks.AccountsDetail, error)

func (fn flinksFunc) FetchCached(ctx context.Context, _ string, o flinks.FetchOptions) (*flinks.AccountsDetail, error) {
	return fn(ctx, o)
}

func waitState(t *testing.T, db *store.DB, id string, want store.State) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if l, _ := db.Link(t.Context(), id); l.State == want {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("link %s never reached %s", id, want)
}

// holdingStore pauses the first outcome write (a snapshot, or a failure) until
// proceed is closed, so a link can arrive while a fetch's outcome is saved.
type holdingStore struct {
	*store.DB
	entered, proceed chan struct{}
	once             sync.Once
}

func newHoldingStore(db *store.DB) *holdingStore {
	return &holdingStore{DB: db, entered: make(chan struct{}), proceed: make(chan struct{})}
}

func (h *holdingStore) hold() {
	h.once.Do(func() {
		close(h.entered)
		<-h.proceed
	})
}

func (h *holdingStore) CompleteFetch(ctx context.Context, id string, fetch int, snap store.Snapshot, note store.Note) error {
	h.hold()
	return h.DB.CompleteFetch(ctx, id, fetch, snap, note)
}

func (h *holdingStore) RecordState(ctx context.Context, id string, fetch int, u store.StateUpdate) error {
	if u.State.Terminal() {
		h.hold()
	}
	return h.DB.RecordState(ctx, id, fetch, u)
}

// logWatch is a slog handler that reports each message on a channel.
type logWatch struct{ msgs chan string }

func (w logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w logWatch) Handle(_ context.Context, r slog.Record) error {
	select {
	case w.msgs <- r.Message:
	default:
	}
	return nil
}
func (w logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w logWatch) WithGroup(string) slog.Handler      { return w }

func waitLog(t *testing.T, msgs chan string, prefix string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-msgs:
			if strings.HasPrefix(m, prefix) {
				return
			}
		case <-timeout:
			t.Fatalf("no log message %q", prefix)
		}
	}
}

// A link that arrives while a successful fetch of its LoginId is saving its
// data gets that data: no second Flinks fetch.
func TestLinkArrivingWhileDataIsSavedGetsIt(t *testing.T) {
	db := openStore(t)
	hs := newHoldingStore(db)
	g := newGatedFlinks()
	logs := logWatch{msgs: make(chan string, 100)}
	f := fetcher.New(t.Context(), slog.New(logs), hs, g, fetcher.Options{})
	a := linkIn(t, db, "s1", loginID)
	f.Start(a.ID, a.Fetch)
	g.waitEntered(t)
	g.open()
	<-hs.entered // the data is being saved on A

	b := linkIn(t, db, "s2", loginID)
	f.Start(b.ID, b.Fetch)
	waitLog(t, logs.msgs, "fetch: attached")
	close(hs.proceed)
	for _, l := range []store.Link{a, b} {
		if got := waitTerminal(t, db, l.ID); got.State != store.StateReady {
			t.Fatalf("link ended %s", got.State)
		}
	}
	f.Wait()
	if n := g.runsOf(loginID); n != 1 {
		t.Errorf("FetchCached ran %d times, want 1", n)
	}
	if snap, err := db.Snapshot(t.Context(), b.ID); err != nil || len(snap.Accounts) != 1 {
		t.Errorf("late link's snapshot %+v, %v", snap, err)
	}
}

// A link that arrives while a failed fetch of its LoginId is recording the
// failure gets a fetch of its own, started after the failed one made its last
// call: a new try, never two at once.
func TestLinkArrivingWhileFailureIsSavedTriesAgain(t *testing.T) {
	db := openStore(t)
	hs := newHoldingStore(db)
	g := newGatedFlinks()
	g.fail.Store(&flinks.Error{Endpoint: "GetAccountsDetailAsync", StatusCode: 400, FlinksCode: "UNKNOWN_ERROR"})
	f := fetcher.New(t.Context(), quiet(), hs, g, fetcher.Options{})
	a := linkIn(t, db, "s1", loginID)
	f.Start(a.ID, a.Fetch)
	g.waitEntered(t)
	g.open()
	<-hs.entered // the failure is being recorded on A

	g.fail.Store(nil)
	b := linkIn(t, db, "s2", loginID)
	f.Start(b.ID, b.Fetch)
	g.waitEntered(t) // B's own fetch
	close(hs.proceed)
	g.open()
	if got := waitTerminal(t, db, a.ID); got.State != store.StateFailed || got.ErrorCode != "UNKNOWN_ERROR" {
		t.Errorf("A ended %s %q, want the failure", got.State, got.ErrorCode)
	}
	if got := waitTerminal(t, db, b.ID); got.State != store.StateReady {
		t.Errorf("B ended %s %q, want ready from its own try", got.State, got.ErrorCode)
	}
	f.Wait()
	if n := g.runsOf(loginID); n != 2 || g.overlap != 1 {
		t.Errorf("FetchCached ran %d times (%d at once), want 2 one after the other", n, g.overlap)
	}
}

// Two instances on one Postgres: a link that instance B receives for a card
// that instance A fetches joins A's fetch (B cannot claim the card and asks
// its holder; A attaches the link): one Flinks run for both, never two at
// once, and both links ready with its data.
func TestLinkOnAnotherInstanceJoinsTheHoldersFetch(t *testing.T) {
	if !onPostgres {
		t.Skip("one instance on SQLite")
	}
	url := pgtest.NewDatabase(t)
	open := func() *store.DB {
		db, err := store.Open(t.Context(), url, make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	g := newGatedFlinks()
	fa := fetcher.New(t.Context(), quiet(), dbA, g, fetcher.Options{})
	fb := fetcher.New(t.Context(), quiet(), dbB, g, fetcher.Options{})
	a := linkIn(t, dbA, "s1", loginID)
	fa.Start(a.ID, a.Fetch)
	g.waitEntered(t) // A's fetch waits on Flinks, holding the card

	b := linkIn(t, dbB, "s2", loginID)
	fb.Start(b.ID, b.Fetch)
	// A attached it: its catch-up writes the fetch's pending state on B's link.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		l, err := dbB.Link(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.State == store.StatePending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's link is %s a minute on: the holder never attached it", l.State)
		}
	}
	g.open()
	for _, l := range []store.Link{a, b} {
		if got := waitTerminal(t, dbB, l.ID); got.State != store.StateReady {
			t.Errorf("link %s ended %s, want ready", l.ID, got.State)
		}
	}
	fa.Wait()
	fb.Wait()
	if n := g.runsOf(loginID); n != 1 || g.overlap != 1 {
		t.Errorf("FetchCached ran %d times (%d at once), want once for both instances", n, g.overlap)
	}
}
