// Package fetcher runs each link's Flinks fetch in the background and persists
// every step: the state changes the browser polls for, the log of every call
// made to Flinks, and, at the end, the account snapshot or the failure.
//
// It is the only part of the app that talks to Flinks' data endpoints, and it
// does so at Flinks' pace (the client's poll interval), however often browsers
// poll our own state.
//
// # One fetch per LoginId
//
// Flinks answers 202 to overlapping calls on one card, so at most one Flinks
// fetch runs per LoginId. Every link of that LoginId that asks for a fetch
// meanwhile (a reloaded redirect, a second tab, a second browser session, the
// postMessage and the URL redirect arriving together) attaches to the running
// fetch: from then on each state change and each Flinks call is recorded on
// every attached link, a link that attaches mid-fetch first gets the fetch's
// current state, and at the end every attached link gets the snapshot (or the
// failure). In memory a LoginId is known by a keyed fingerprint (HMAC with a
// per-process key); the LoginId itself is kept only by the running fetch.
//
// # Waiting costs nothing
//
// While Flinks answers 202, a fetch between two polls holds no goroutine: the
// client returns at each 202 (flinks.FetchOptions.Park) and the fetch waits in
// a queue of due times (schedule.go), run by a bounded set of worker slots when
// its time comes, at Flinks' pace whatever else the machine does.
package fetcher

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"flinkslink/flinks"
	"flinkslink/store"
)

// Store is what the fetcher needs from persistence.
type Store interface {
	Link(ctx context.Context, linkID string) (store.Link, error)
	LoginID(ctx context.Context, linkID string) (string, error)
	RecordState(ctx context.Context, linkID string, fetch int, u store.StateUpdate) error
	RecordCall(ctx context.Context, linkID string, fetch int, c store.Call) error
	CompleteFetch(ctx context.Context, linkID string, fetch int, snap store.Snapshot, note store.Note) error
	LinksByLoginID(ctx context.Context, loginID string) ([]store.Link, error)

	// The leases that keep one call sequence per LoginId across instances
	// (see lease.go and store.ClaimCard).
	CardOf(loginID string) store.Card
	ClaimCard(ctx context.Context, card store.Card, holder string) (bool, error)
	Beat(ctx context.Context, holder string, until time.Time) error
	RenewCards(ctx context.Context, holder string, until time.Time) (map[store.Card]bool, error)
	ReleaseCard(ctx context.Context, card store.Card, holder string) error
	ReleaseCards(ctx context.Context, holder string) error
	Orphaned(ctx context.Context) ([]store.Link, error)
	// Shared reports whether other instances use the database too;
	// OnChangeElsewhere tells of the links they change (see
	// changedElsewhere), WantCard asks the holder of a card to attach its new
	// links, and OnCardWanted tells of such asks (see cardWanted).
	Shared() bool
	OnChangeElsewhere(fn func(linkID string))
	WantCard(card store.Card)
	OnCardWanted(fn func(card store.Card))
}

// Flinks runs Flinks' cached flow for one LoginId.
type Flinks interface {
	FetchCached(ctx context.Context, loginID string, opts flinks.FetchOptions) (*flinks.AccountsDetail, error)
}

// Options tunes the fetch; zero values take the client's defaults (10 s polls, 30 min cap).
type Options struct {
	PollInterval time.Duration
	Timeout      time.Duration
	// BackoffBase and BackoffMax shape the jittered wait before a retry, and
	// CallTimeout bounds each Flinks call (see flinks.FetchOptions); zero values
	// take the client's defaults (1 s, 30 s, 4 min).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	CallTimeout time.Duration
	// DaysOfTransactions is flinks.Days90 (default) or flinks.Days365
	// (FLINKS_DAYS; lenders need the year).
	DaysOfTransactions string
	// WriteRetryMax caps the wait between attempts to store a fetch's outcome
	// when the database cannot write (a full disk); default 30 s. The first
	// wait is a hundredth of it.
	WriteRetryMax time.Duration
	// Workers bounds the fetch steps (Flinks call sequences) that run at
	// once; default DefaultWorkers.
	Workers int
	// LeaseTTL bounds how soon another instance takes over the fetches of
	// one that died (see lease.go for the times it sets); default
	// DefaultLeaseTTL.
	LeaseTTL time.Duration
}

// Fetcher starts and tracks background fetches, at most one per LoginId.
type Fetcher struct {
	// base is the server's lifetime: fetches outlive the request that started
	// them and stop when the server shuts down.
	base  context.Context
	log   *slog.Logger
	store Store
	fl    Flinks
	opts  Options
	// fpKey keys the fingerprints that identify LoginIds in memory, so the
	// maps below never hold a LoginId; random per process.
	fpKey []byte
	// holder names this process in the lease table; shared: other instances
	// use the database too (see lease.go).
	holder string
	shared bool

	mu    sync.Mutex
	jobs  map[fingerprint]*job // the Flinks fetch of each LoginId
	links map[string]*job      // link id → the job it is attached to
	// starting holds the fetch number of each link whose Start is still
	// loading it: a second Start meanwhile would read the same unfinished
	// state, and could run a second fetch after the first one ended.
	starting map[string]int
	stopped  bool // Wait was called: no new goroutine may start
	renewing bool // the lease renewer runs
	// beatUntil is when this process's heartbeat, which keeps its leases
	// alive, runs out (see beat); beating serialises the beats.
	beatUntil time.Time
	beating   sync.Mutex
	wg        sync.WaitGroup

	// The jobs whose next step waits for its time (see schedule.go).
	due         dueQueue
	dispatching bool          // the dispatcher goroutine runs
	kick        chan struct{} // tells the dispatcher the queue's head changed
	slots       chan struct{} // one per step running: Options.Workers
}

// fingerprint identifies a LoginId in memory: HMAC-SHA256 with Fetcher.fpKey.
type fingerprint [sha256.Size]byte

// job is one Flinks fetch (one FetchCached run) and the links attached to it.
type job struct {
	fp      fingerprint
	loginID string // to call Flinks and to mask it out of stored bodies

	// Guarded by Fetcher.mu.
	//
	// A job has no context of its own: one waiting for its next poll holds
	// nothing but its state (10,000 waiting jobs held 15 MB of contexts).
	// Each step runs on a context made for it, which stopStep ends.
	//
	// cancelled: the fetch was cancelled (its owner, or every attached link
	// went away); flinksStopped: a webhook brought the data first (see
	// Deliver). Either ends the Flinks call sequence.
	cancelled, flinksStopped bool
	stopStep                 context.CancelFunc     // while a step runs
	members                  map[string]*member     // link id → its attachment
	done                     bool                   // FetchCached returned; outcomes are being written
	snap                     *store.Snapshot        // set when done and the fetch succeeded
	pushed                   *flinks.AccountsDetail // the data a webhook brought while the fetch ran
	// card is the LoginId's lease; leased: this process claimed it (it
	// lives as long as the process's heartbeat, see beat), lost: another
	// instance took it since.
	card   store.Card
	leased bool
	lost   bool
	// attached: the card's links another instance received were attached
	// once, at the first step (later ones come by cardWanted).
	attached bool
	// announce: a link asked for this fetch here (a redirect, Try again),
	// which the card's holder elsewhere may not know of (see heldElsewhere).
	announce bool
	// accounts is the AccountsFilter of the fetch: every account any link
	// chose in Connect's account selector, or nil (all) when a link chose none.
	accounts []string
	// live: the fetch refreshes from the bank (a link asked for it), which
	// also serves links that only want the cache.
	live bool
	// timeout is the fetch's time limit: the shortest of its links' own
	// (a QA choice), else Options.Timeout.
	timeout time.Duration

	// Between steps (guarded by Fetcher.mu): where the fetch stands and
	// when its next step is due.
	resume     resumePoint
	checkpoint *flinks.Checkpoint // nil before the first 202
	progress   *recorder
	dueAt      time.Time
	dueIndex   int // in Fetcher.due; -1 when not queued

	// rec serialises every write to the members (mirrored states and calls,
	// the catch-up of a link that attaches mid-fetch, the outcomes), so each
	// link's timeline stays in order. It may be held while taking Fetcher.mu,
	// never the other way round.
	rec  sync.Mutex
	last *store.StateUpdate // the last state mirrored; guarded by rec
}

// member is a link attached to a job, for one fetch generation.
type member struct {
	fetch    int
	accounts []string // the accounts the link chose in Connect; nil: all
	// synced (guarded by job.rec) means the link has the job's latest state:
	// it was there from the start, or a state was mirrored to it since.
	synced bool
}

// target is a member as seen by one write.
type target struct {
	linkID string
	fetch  int
	m      *member
}

// New returns a Fetcher whose fetches live as long as base.
func New(base context.Context, log *slog.Logger, st Store, fl Flinks, opts Options) *Fetcher {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	f := &Fetcher{base: base, log: log, store: st, fl: fl, opts: opts, fpKey: key,
		holder: holderID(), shared: st.Shared(),
		jobs: map[fingerprint]*job{}, links: map[string]*job{}, starting: map[string]int{},
		kick: make(chan struct{}, 1), slots: make(chan struct{}, opts.Workers)}
	if f.shared {
		st.OnChangeElsewhere(f.changedElsewhere)
		st.OnCardWanted(f.cardWanted)
		go f.sweep()
	}
	return f
}

// Start runs fetch generation `fetch` of the link in the background and
// returns at once. It is idempotent: while a fetch of the same link runs,
// later calls change nothing; while a fetch of the same LoginId runs (for
// another link), the link attaches to it instead of starting a second one.
func (f *Fetcher) Start(linkID string, fetch int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.acceptingLocked() {
		return // shutting down: the link stays unfinished and resumes at the next start
	}
	if j := f.links[linkID]; j != nil {
		if m := j.members[linkID]; m != nil && m.fetch >= fetch {
			return
		}
	}
	if n, ok := f.starting[linkID]; ok && n >= fetch {
		return
	}
	f.starting[linkID] = fetch
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer func() {
			f.mu.Lock()
			if f.starting[linkID] == fetch {
				delete(f.starting, linkID)
			}
			f.mu.Unlock()
		}()
		f.startLink(linkID, fetch)
	}()
}

// Resume restarts the fetches of every link that was unfinished when the
// process stopped, one fetch per LoginId: the links of one LoginId attach to
// the same fetch, which keeps polling the Flinks request they were waiting
// for when there is one (the client re-authorizes if it has expired). It
// returns how many links were resumed.
//
// With a shared database it resumes only the links no instance fetches (see
// store.Orphaned); alone, it first clears the leases its previous run left.
func (f *Fetcher) Resume(ctx context.Context) (int, error) {
	if !f.shared {
		if err := f.store.ReleaseCards(ctx, ""); err != nil {
			return 0, fmt.Errorf("fetcher: resume: %w", err)
		}
	}
	return f.resumeOrphans(ctx)
}

// resumeOrphans attaches the unfinished links nobody fetches to fetches of
// this process, one per LoginId.
func (f *Fetcher) resumeOrphans(ctx context.Context) (int, error) {
	links, err := f.store.Orphaned(ctx)
	if err != nil {
		return 0, fmt.Errorf("fetcher: resume: %w", err)
	}
	type group struct {
		loginID string
		links   []store.Link
	}
	groups := map[fingerprint]*group{}
	var order []fingerprint
	n := 0
	for _, l := range links {
		loginID, err := f.store.LoginID(ctx, l.ID)
		if err != nil {
			if ctx.Err() != nil {
				return n, fmt.Errorf("fetcher: resume: %w", ctx.Err())
			}
			f.failLinks([]target{{linkID: l.ID, fetch: l.Fetch}}, failureUpdate(codeFor(err), "could not read the stored connection"), err)
			continue
		}
		fp := f.fingerprint(loginID)
		g := groups[fp]
		if g == nil {
			g = &group{loginID: loginID}
			groups[fp] = g
			order = append(order, fp)
		}
		g.links = append(g.links, l)
		n++
	}
	for _, fp := range order {
		f.join(groups[fp].loginID, groups[fp].links, false)
	}
	return n, nil
}

// Wait blocks until every fetch has ended, or, once base is cancelled, has
// stopped where it was (its links stay unfinished, for the next start to
// resume). Start and Resume start nothing once Wait has been called.
func (f *Fetcher) Wait() {
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	f.wg.Wait()
}

// Running reports how many Flinks fetches are in flight (one per LoginId,
// however many links are attached).
func (f *Fetcher) Running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.jobs)
}

// acceptingLocked reports whether new work may start; f.mu must be held.
// Checking under f.mu is what makes every wg.Add happen before Wait.
func (f *Fetcher) acceptingLocked() bool { return !f.stopped && f.base.Err() == nil }

func (f *Fetcher) fingerprint(loginID string) fingerprint {
	m := hmac.New(sha256.New, f.fpKey)
	m.Write([]byte(loginID))
	var fp fingerprint
	m.Sum(fp[:0])
	return fp
}

// startLink checks that the link still wants this fetch, reads its LoginId and
// attaches it to its LoginId's fetch, starting one if none runs.
func (f *Fetcher) startLink(linkID string, fetch int) {
	ctx := f.base
	link, err := f.store.Link(ctx, linkID)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Error("fetch: load link", "link", linkID, "err", err)
		}
		return
	}
	if link.Fetch != fetch || link.State.Terminal() {
		return // a newer fetch superseded this one, or it already ended
	}
	loginID, err := f.store.LoginID(ctx, linkID)
	if err != nil {
		if ctx.Err() == nil {
			f.failLinks([]target{{linkID: linkID, fetch: fetch}}, failureUpdate(codeFor(err), "could not read the stored connection"), err)
		}
		return
	}
	f.join(loginID, []store.Link{link}, true)
}

// join attaches links (all of the LoginId loginID) to the LoginId's running
// fetch, or starts one for them. announce: they asked for a fetch here (see
// job.announce), rather than being resumed or attached for another instance.
func (f *Fetcher) join(loginID string, links []store.Link, announce bool) {
	fp := f.fingerprint(loginID)
	f.mu.Lock()
	if !f.acceptingLocked() {
		f.mu.Unlock()
		return
	}
	j := f.jobs[fp]
	if j != nil && (j.done && j.snap == nil || f.stoppedLocked(j)) {
		// That fetch failed and is only writing its outcome, or was
		// cancelled and is ending: a link asking now ("Try again", or a new
		// link) deserves a new try. The old job makes no more Flinks calls,
		// so nothing overlaps.
		j = nil
	}
	if j == nil {
		j = &job{fp: fp, loginID: loginID, card: f.store.CardOf(loginID), members: map[string]*member{}, dueIndex: -1}
		j.accounts = accountsFilter(links)
		j.live = slices.ContainsFunc(links, func(l store.Link) bool { return l.Live })
		j.timeout = f.opts.Timeout
		for _, l := range links {
			if l.TimeLimit > 0 && (j.timeout <= 0 || l.TimeLimit < j.timeout) {
				j.timeout = l.TimeLimit
			}
		}
		f.jobs[fp] = j
		j.announce = announce
		for _, l := range links {
			f.attachLocked(j, l, true)
		}
		j.resume = resumePointOf(links)
		j.progress = &recorder{f: f, j: j, polledBefore: j.resume.polls}
		f.wg.Add(1) // until finish, or until abandoned at shutdown
		due := time.Now()
		if j.resume.due.After(due) {
			// At most one interval on: a stored time far off is not ours to keep.
			due = j.resume.due
			if latest := time.Now().Add(f.pollInterval()); due.After(latest) {
				due = latest
			}
		}
		f.scheduleLocked(j, due)
		f.mu.Unlock()
		return
	}
	var joined []string
	j.announce = j.announce || announce
	for _, l := range links {
		if f.attachLocked(j, l, false) {
			joined = append(joined, l.ID)
		}
	}
	done := j.done
	f.mu.Unlock()
	if len(joined) > 0 {
		f.log.Info("fetch: attached to the running fetch of the same connection", "links", joined)
	}
	if !done && len(joined) > 0 {
		f.catchUp(j, joined)
	}
	// A job that is done (and succeeded) writes its outcome to every member,
	// the ones that attach while it does so included.
}

// attachLocked makes the link a member of j for its fetch generation, unless
// it already is for that generation or a newer one; f.mu must be held.
func (f *Fetcher) attachLocked(j *job, l store.Link, synced bool) bool {
	if m := j.members[l.ID]; m != nil && m.fetch >= l.Fetch {
		return false
	}
	j.members[l.ID] = &member{fetch: l.Fetch, synced: synced, accounts: l.AccountIDs}
	f.links[l.ID] = j
	return true
}

// resumePoint is where a fetch interrupted by a restart goes on from.
type resumePoint struct {
	requestID    string    // the Flinks request to keep polling; "" to start afresh
	polls        int       // the 202 answers already counted for it
	pendingSince time.Time // its first 202: the time limit counts from there
	// due is when that request was to be polled next: Flinks' pace holds
	// across the restart (and thousands of resumed fetches keep their spread
	// instead of polling all at once).
	due time.Time
}

// pollInterval is the wait between two polls of Flinks.
func (f *Fetcher) pollInterval() time.Duration {
	if f.opts.PollInterval > 0 {
		return f.opts.PollInterval
	}
	return 10 * time.Second // the client's default
}

// resumePointOf is the Flinks request the links were pending on, if any (the
// client re-authorizes if it has expired). Attached links share it; the most
// advanced one wins.
func resumePointOf(links []store.Link) resumePoint {
	best := -1
	for i, l := range links {
		if l.State == store.StatePending && l.RequestID != "" && (best < 0 || l.Polls > links[best].Polls) {
			best = i
		}
	}
	if best < 0 {
		return resumePoint{}
	}
	l := links[best]
	return resumePoint{requestID: l.RequestID, polls: l.Polls, pendingSince: l.PendingSince, due: l.NextPollAt}
}

// catchUp records the job's current state on links that attached mid-fetch,
// so their page shows where the shared fetch is.
func (f *Fetcher) catchUp(j *job, linkIDs []string) {
	j.rec.Lock()
	defer j.rec.Unlock()
	if j.last == nil {
		return // nothing recorded yet: the next state reaches them too
	}
	u := *j.last
	u.Note = u.Note.Attached()
	for _, t := range f.targets(j) {
		if t.m.synced || !slices.Contains(linkIDs, t.linkID) {
			continue
		}
		f.writeState(j, t, u)
	}
}

// targets returns j's members as they are now.
func (f *Fetcher) targets(j *job) []target {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]target, 0, len(j.members))
	for id, m := range j.members {
		out = append(out, target{linkID: id, fetch: m.fetch, m: m})
	}
	return out
}

// Cancel stops the running fetch of a link at its owner's request: the link
// ends in failed with CodeCancelled at once, is detached from the fetch, and
// the Flinks call sequence stops unless another link (another browser that
// linked the same card) still waits for it. It returns store.ErrStale when the
// fetch had already ended.
func (f *Fetcher) Cancel(ctx context.Context, linkID string, fetch int) error {
	u := store.StateUpdate{State: store.StateFailed, ErrorCode: flinks.CodeCancelled, Note: store.NoteOf(store.NoteCancelled)}
	if err := f.store.RecordState(ctx, linkID, fetch, u); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	j := f.links[linkID]
	if j == nil {
		return nil // no job holds it (between a restart and its resume)
	}
	if m := j.members[linkID]; m != nil && m.fetch == fetch {
		delete(j.members, linkID)
		delete(f.links, linkID)
		if len(j.members) == 0 && !j.done {
			f.log.Info("fetch cancelled by its owner", "link", linkID)
			f.cancelLocked(j)
		}
	}
	return nil
}

// drop detaches a member whose link went away or moved on (ErrStale,
// ErrNotFound). A fetch that no link is attached to any more is cancelled.
func (f *Fetcher) drop(j *job, t target) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if j.members[t.linkID] != t.m {
		return
	}
	delete(j.members, t.linkID)
	if f.links[t.linkID] == j {
		delete(f.links, t.linkID)
	}
	if len(j.members) == 0 && !j.done {
		f.cancelLocked(j)
	}
}

// cancelLocked stops the job's fetch: no more Flinks calls, and the links
// stay as they are (whoever cancels writes their state); f.mu must be held.
func (f *Fetcher) cancelLocked(j *job) {
	j.cancelled = true
	f.stopFlinksLocked(j)
}

// stopFlinksLocked ends the job's Flinks call sequence: the step running
// now, or the next one at once; f.mu must be held.
func (f *Fetcher) stopFlinksLocked(j *job) {
	if j.stopStep != nil {
		j.stopStep()
	}
	f.wakeLocked(j)
}

// stoppedLocked reports whether the job was cancelled or the fetcher is
// stopping: what ended its calls was not Flinks. f.mu must be held.
func (f *Fetcher) stoppedLocked(j *job) bool { return j.cancelled || f.base.Err() != nil }

// jobStopped is stoppedLocked, taking f.mu.
func (f *Fetcher) jobStopped(j *job) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stoppedLocked(j)
}

// writeState records u on one member; j.rec must be held.
func (f *Fetcher) writeState(j *job, t target, u store.StateUpdate) {
	f.writeStateWith(j, t, u, func(write func() error) error { return write() })
}

// writeOutcome writes a fetch's terminal failure, retrying while the
// database cannot write (see persist).
func (f *Fetcher) writeOutcome(j *job, t target, u store.StateUpdate) {
	f.writeStateWith(j, t, u, func(write func() error) error { return f.persist(t.linkID, write) })
}

func (f *Fetcher) writeStateWith(j *job, t target, u store.StateUpdate, try func(func() error) error) {
	err := try(func() error { return f.store.RecordState(context.WithoutCancel(f.base), t.linkID, t.fetch, u) })
	switch {
	case err == nil:
		t.m.synced = true
	case errors.Is(err, store.ErrStale), errors.Is(err, store.ErrNotFound):
		f.drop(j, t)
	default:
		f.log.Error("fetch: record state", "link", t.linkID, "state", u.State, "err", err)
	}
}

// step runs the job's Flinks fetch until Flinks answers 202 (the job is
// queued for its next poll, holding no goroutine meanwhile) or the fetch
// ends, and then writes its outcome (see finish).
func (f *Fetcher) step(j *job) {
	ctx, stop := context.WithCancel(f.base)
	defer stop()
	f.mu.Lock()
	from, resume, rec := j.checkpoint, j.resume, j.progress
	if j.cancelled || j.flinksStopped {
		stop() // stopped while it waited: the step only ends the fetch
	}
	j.stopStep = stop
	stopped := j.cancelled || j.flinksStopped
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		j.stopStep = nil
		f.mu.Unlock()
	}()
	if !stopped {
		// No Flinks call without the card's lease: another instance may run it.
		held, err := f.holdLease(ctx, j)
		if err != nil {
			if ctx.Err() == nil {
				f.log.Error("fetch: claim lease", "err", err)
			}
			f.mu.Lock()
			f.scheduleLocked(j, time.Now().Add(f.pollInterval())) // try again
			f.mu.Unlock()
			return
		}
		if !held {
			f.log.Info("fetch: another instance runs this card's fetch", "links", len(f.targets(j)))
			f.heldElsewhere(j)
			return
		}
		f.mu.Lock()
		first := !j.attached
		j.attached = true
		f.mu.Unlock()
		if first {
			f.attachNewcomers(ctx, j)
		}
	}
	opts := flinks.FetchOptions{
		PollInterval: f.opts.PollInterval,
		Timeout:      j.timeout,
		BackoffBase:  f.opts.BackoffBase,
		BackoffMax:   f.opts.BackoffMax,
		CallTimeout:  f.opts.CallTimeout,
		OnCall:       rec.call,
		OnState:      rec.state,
		Park:         true,
		From:         from,
		// After a restart mid-poll, keep polling the same Flinks request
		// rather than opening a new one.
		ResumeRequestID:    resume.requestID,
		PendingSince:       resume.pendingSince,
		DaysOfTransactions: f.opts.DaysOfTransactions,
		AccountsFilter:     j.accounts,
		Live:               j.live,
	}
	if from != nil {
		opts.ResumeRequestID, opts.PendingSince = "", time.Time{}
	}
	detail, err := f.fl.FetchCached(ctx, j.loginID, opts)
	var parked *flinks.Parked
	if errors.As(err, &parked) {
		f.mu.Lock()
		j.checkpoint = parked.Checkpoint
		due := parked.Until
		if j.cancelled || j.flinksStopped {
			due = time.Now() // stopped while the step ran: end it now
		}
		f.scheduleLocked(j, due)
		f.mu.Unlock()
		return
	}
	f.finish(j, rec, detail, err)
}

// finish writes a Flinks fetch's outcome to every attached link. Errors are
// persisted as the links' failure, not returned: there is no caller waiting
// for them.
func (f *Fetcher) finish(j *job, rec *recorder, detail *flinks.AccountsDetail, err error) {
	defer f.wg.Done()
	defer f.releaseLease(j)
	j.rec.Lock()
	defer j.rec.Unlock()
	f.mu.Lock()
	j.done = true
	source := store.NoteDataReceived
	if j.pushed != nil {
		// A webhook brought the data first and stopped the polling: that is
		// the answer, whatever the stopped call sequence returned.
		detail, err, rec.failure = j.pushed, nil, nil
		source = store.NoteWebhookReceived
	}
	var snap store.Snapshot
	if err == nil {
		snap = snapshotFrom(detail)
		j.snap = &snap
	}
	interrupted := err != nil && f.stoppedLocked(j)
	if interrupted {
		// Shutdown (or every link went away): leave the links unfinished so
		// the next start resumes them.
		ids := make([]string, 0, len(j.members))
		for id := range j.members {
			ids = append(ids, id)
		}
		f.closeLocked(j)
		f.mu.Unlock()
		if len(ids) > 0 {
			f.log.Info("fetch interrupted by shutdown; will resume at next start", "links", ids)
		}
		return
	}
	f.mu.Unlock()

	failure := rec.failure
	if err != nil && failure == nil {
		// The client reports the terminal state through OnState; this is a
		// backstop for errors that ended the fetch without one.
		u := failureUpdate(codeFor(err), messageFor(err))
		failure = &u
	}
	if failure != nil {
		f.log.Warn("fetch failed", "code", failure.ErrorCode, "links", len(f.targets(j)), "err", err)
	}
	note := store.NoteOf(source, len(snap.Accounts))
	// Write the outcome to every member, including links that attach while
	// this runs (see join); the job leaves the map only when none is left.
	written := map[string]int{}
	for {
		f.mu.Lock()
		var todo []target
		for id, m := range j.members {
			if fetch, ok := written[id]; !ok || fetch != m.fetch {
				todo = append(todo, target{linkID: id, fetch: m.fetch, m: m})
			}
		}
		if len(todo) == 0 {
			f.closeLocked(j)
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		for _, t := range todo {
			written[t.linkID] = t.fetch
			if failure != nil {
				f.writeOutcome(j, t, *failure)
				continue
			}
			err := f.persist(t.linkID, func() error {
				return f.store.CompleteFetch(context.WithoutCancel(f.base), t.linkID, t.fetch, forLink(snap, t.m.accounts), note)
			})
			if errors.Is(err, store.ErrInvalid) {
				f.log.Error("fetch: save snapshot", "link", t.linkID, "err", err)
				f.writeOutcome(j, t, failureUpdate(flinks.CodeUnexpected, "the account data could not be saved"))
			}
		}
	}
}

// accountsFilter is the AccountsFilter that serves every link: the union of
// their chosen accounts, or nil (every account) as soon as one chose none.
func accountsFilter(links []store.Link) []string {
	var ids []string
	for _, l := range links {
		if len(l.AccountIDs) == 0 {
			return nil
		}
		ids = append(ids, l.AccountIDs...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// forLink is the part of snap that link shows: the accounts it chose in
// Connect's account selector, or all of them.
func forLink(snap store.Snapshot, link []string) store.Snapshot {
	if len(link) == 0 {
		return snap
	}
	out := snap
	out.Accounts = nil
	for _, a := range snap.Accounts {
		if slices.Contains(link, a.ID) {
			out.Accounts = append(out.Accounts, a)
		}
	}
	return out
}

// Pushed is what Deliver did with data a webhook brought.
type Pushed int

// What Deliver did.
const (
	// PushedToFetch: the card's running fetch took the data as its answer and
	// stopped polling; its links become ready as from a poll.
	PushedToFetch Pushed = iota + 1
	// PushedStored: no fetch was running; the card's unfinished links
	// stored the data directly.
	PushedStored
	// PushedNothing: every link of the card had its outcome already (the
	// poll came first, say): nothing changed.
	PushedNothing
)

// Deliver hands account data Flinks pushed for loginID (a GetAccountsDetail
// webhook, already verified) to the card's links. Whichever of the poll and
// the push comes first wins; the other changes nothing: a running fetch
// stops and takes the data, a finished one is left alone, and a link whose
// outcome is stored refuses a second one (store.ErrStale).
func (f *Fetcher) Deliver(ctx context.Context, loginID string, d *flinks.AccountsDetail) (Pushed, error) {
	if !strings.EqualFold(d.Login.ID, loginID) {
		return 0, fmt.Errorf("fetcher: deliver: %w", flinks.ErrForeignData)
	}
	fp := f.fingerprint(loginID)
	f.mu.Lock()
	if j := f.jobs[fp]; j != nil && !j.done && j.pushed == nil {
		j.pushed = d
		j.flinksStopped = true
		f.stopFlinksLocked(j)
		f.mu.Unlock()
		return PushedToFetch, nil
	}
	f.mu.Unlock()

	links, err := f.store.LinksByLoginID(ctx, loginID)
	if err != nil {
		return 0, fmt.Errorf("fetcher: deliver: %w", err)
	}
	snap := snapshotFrom(d)
	note := store.NoteOf(store.NoteWebhookReceived, len(snap.Accounts))
	stored := false
	for _, l := range links {
		if l.State.Terminal() {
			continue
		}
		// One attempt: a database that cannot write fails the push, which
		// Flinks sends again later.
		err := f.store.CompleteFetch(context.WithoutCancel(ctx), l.ID, l.Fetch, forLink(snap, l.AccountIDs), note)
		switch {
		case err == nil:
			stored = true
		case errors.Is(err, store.ErrStale), errors.Is(err, store.ErrNotFound):
		default:
			return 0, fmt.Errorf("fetcher: deliver: %w", err)
		}
	}
	if stored {
		return PushedStored, nil
	}
	return PushedNothing, nil
}

// pushedTo reports whether a webhook brought j's data.
func (f *Fetcher) pushedTo(j *job) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return j.pushed != nil
}

// persist runs write, the storing of a fetch's outcome, until it succeeds,
// is refused for good (the link moved on, is gone, or the data is invalid),
// or the fetcher stops, which leaves the link unfinished for the next start.
// Any other failure is the database not writing (a full disk, an I/O
// error): the write is tried again with backoff, so the link leaves pending
// as soon as the database writes again, without a restart. Meanwhile the
// job stays running: Refresh and Delete wait for it, as for any fetch.
func (f *Fetcher) persist(linkID string, write func() error) error {
	limit := f.opts.WriteRetryMax
	if limit <= 0 {
		limit = 30 * time.Second
	}
	wait := limit / 100
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil || errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
			if err == nil && attempt > 1 {
				f.log.Info("fetch: outcome stored after the database could write again", "link", linkID, "attempts", attempt)
			}
			return err
		}
		if attempt == 1 {
			f.log.Error("fetch: cannot store the outcome; retrying until the database writes", "link", linkID, "err", err)
		}
		select {
		case <-f.base.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, limit)
	}
}

// closeLocked removes a finished job from the maps; f.mu must be held. A job
// that already replaced it (see join) stays.
func (f *Fetcher) closeLocked(j *job) {
	if f.jobs[j.fp] == j {
		delete(f.jobs, j.fp)
	}
	for id := range j.members {
		if f.links[id] == j {
			delete(f.links, id)
		}
	}
	j.loginID = "" // no longer needed: do not keep the secret around
}

// failureUpdate is the state update of a failed fetch.
func failureUpdate(code, msg string) store.StateUpdate {
	st := store.StateFailed
	if code == flinks.CodeTimedOut {
		st = store.StateTimedOut
	}
	return store.StateUpdate{State: st, ErrorCode: code, ErrorMessage: msg, Note: store.NoteOf(store.NoteStopped)}
}

// failLinks records a failure on links that belong to no job.
func (f *Fetcher) failLinks(ts []target, u store.StateUpdate, cause error) {
	for _, t := range ts {
		f.log.Warn("fetch failed", "link", t.linkID, "code", u.ErrorCode, "err", cause)
		err := f.store.RecordState(context.WithoutCancel(f.base), t.linkID, t.fetch, u)
		if err != nil && !errors.Is(err, store.ErrStale) && !errors.Is(err, store.ErrNotFound) {
			f.log.Error("fetch: record failure", "link", t.linkID, "err", err)
		}
	}
}
