// Package fetcher runs each link's Flinks fetch in the background and persists
// every step: the state changes the browser polls for, the log of every call
// made to Flinks, and, at the end, the account snapshot or the failure.
//
// It is the only part of the app that talks to Flinks' data endpoints, and it
// does so at Flinks' pace (the client's poll interval), however often browsers
// poll our own state.
package fetcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	CompleteFetch(ctx context.Context, linkID string, fetch int, snap store.Snapshot, note string) error
	Unfinished(ctx context.Context) ([]store.Link, error)
}

// Flinks runs Flinks' cached flow for one LoginId.
type Flinks interface {
	FetchCached(ctx context.Context, loginID string, opts flinks.FetchOptions) (*flinks.AccountsDetail, error)
}

// Options tunes the fetch; zero values take the client's defaults (10 s polls, 30 min cap).
type Options struct {
	PollInterval time.Duration
	Timeout      time.Duration
}

// Fetcher starts and tracks background fetches.
type Fetcher struct {
	// base is the server's lifetime: fetches outlive the request that started
	// them and stop when the server shuts down.
	base  context.Context
	log   *slog.Logger
	store Store
	fl    Flinks
	opts  Options

	mu      sync.Mutex
	running map[string]int // link id → fetch generation being run
	wg      sync.WaitGroup
}

// New returns a Fetcher whose fetches live as long as base.
func New(base context.Context, log *slog.Logger, st Store, fl Flinks, opts Options) *Fetcher {
	return &Fetcher{base: base, log: log, store: st, fl: fl, opts: opts, running: map[string]int{}}
}

// Start runs fetch generation `fetch` of the link in the background. It is
// idempotent: while a fetch of the same link runs, later calls attach to it.
func (f *Fetcher) Start(linkID string, fetch int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.base.Err() != nil {
		return // shutting down: the link stays unfinished and resumes at the next start
	}
	if gen, ok := f.running[linkID]; ok && gen >= fetch {
		return
	}
	f.running[linkID] = fetch
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer f.finish(linkID, fetch)
		f.run(linkID, fetch)
	}()
}

// Resume restarts every fetch that was running when the process stopped.
func (f *Fetcher) Resume(ctx context.Context) (int, error) {
	links, err := f.store.Unfinished(ctx)
	if err != nil {
		return 0, fmt.Errorf("fetcher: resume: %w", err)
	}
	for _, l := range links {
		f.Start(l.ID, l.Fetch)
	}
	return len(links), nil
}

// Wait blocks until every fetch has returned; call it after cancelling base.
func (f *Fetcher) Wait() { f.wg.Wait() }

// Running reports how many fetches are in flight.
func (f *Fetcher) Running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.running)
}

func (f *Fetcher) finish(linkID string, fetch int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running[linkID] == fetch {
		delete(f.running, linkID)
	}
}

// run performs one fetch and persists its outcome. Errors are persisted as the
// link's failure, not returned: there is no caller waiting for them.
func (f *Fetcher) run(linkID string, fetch int) {
	ctx := f.base
	link, err := f.store.Link(ctx, linkID)
	if err != nil {
		f.log.Error("fetch: load link", "link", linkID, "err", err)
		return
	}
	if link.Fetch != fetch || link.State.Terminal() {
		return // a newer fetch superseded this one, or it already ended
	}
	loginID, err := f.store.LoginID(ctx, linkID)
	if err != nil {
		f.fail(linkID, fetch, codeFor(err), "could not read the stored connection", err)
		return
	}

	rec := recorder{f: f, linkID: linkID, fetch: fetch, loginID: loginID}
	opts := flinks.FetchOptions{
		PollInterval: f.opts.PollInterval,
		Timeout:      f.opts.Timeout,
		OnCall:       rec.call,
		OnState:      rec.state,
	}
	// After a restart mid-poll, keep polling the same Flinks request rather
	// than opening a new one (the client re-authorizes if it has expired).
	if link.State == store.StatePending && link.RequestID != "" {
		opts.ResumeRequestID = link.RequestID
	}
	detail, err := f.fl.FetchCached(ctx, loginID, opts)
	switch {
	case err == nil:
		snap := snapshotFrom(detail)
		note := fmt.Sprintf("Account data received: %d accounts", len(snap.Accounts))
		if err := f.store.CompleteFetch(context.WithoutCancel(ctx), linkID, fetch, snap, note); err != nil && !errors.Is(err, store.ErrStale) {
			f.log.Error("fetch: save snapshot", "link", linkID, "err", err)
			f.fail(linkID, fetch, CodeUnexpected, "the account data could not be saved", err)
		}
	case ctx.Err() != nil:
		// Shutdown: leave the link unfinished so the next start resumes it.
		f.log.Info("fetch interrupted by shutdown; will resume at next start", "link", linkID)
	default:
		// The client already reported the terminal state through OnState;
		// this is a backstop for errors that ended the fetch without one.
		if !rec.terminal {
			f.fail(linkID, fetch, codeFor(err), messageFor(err), err)
		}
	}
}

// fail records a failure state.
func (f *Fetcher) fail(linkID string, fetch int, code, msg string, cause error) {
	f.log.Warn("fetch failed", "link", linkID, "code", code, "err", cause)
	st := store.StateFailed
	if code == CodeTimedOut {
		st = store.StateTimedOut
	}
	err := f.store.RecordState(context.WithoutCancel(f.base), linkID, fetch, store.StateUpdate{
		State: st, ErrorCode: code, ErrorMessage: msg, Note: "Failed: " + code,
	})
	if err != nil && !errors.Is(err, store.ErrStale) {
		f.log.Error("fetch: record failure", "link", linkID, "err", err)
	}
}
