package fetcher

import (
	"context"
	"errors"

	"flinkslink/flinks"
	"flinkslink/store"
)

// recorder persists one fetch's calls and state changes, as the client reports
// them, on every link attached to the fetch.
type recorder struct {
	f *Fetcher
	j *job
	// failure is the terminal failure the client reported; run writes it,
	// with the outcome, to every attached link.
	failure *store.StateUpdate
	// polledBefore is the 202 answers counted before a restart: a resumed
	// fetch's count goes on from there rather than starting at 1 again.
	polledBefore int
	// stage is the last stage the client reported, and retried the stage a
	// retry repeats: the link stays "retrying" (saying what is retried)
	// through the repeated call, until that call's outcome moves it on.
	stage, retried flinks.Stage
}

// call stores one Flinks call in the call log of every attached link, its body masked.
func (r *recorder) call(c flinks.Call) {
	sc := store.Call{
		At:         c.Started,
		Endpoint:   c.Endpoint,
		Method:     c.Method,
		StatusCode: c.StatusCode,
		FlinksCode: c.FlinksCode,
		RequestID:  c.RequestID,
		Attempt:    c.Attempt,
		Duration:   c.Duration,
		Err:        c.Err,
		Body:       MaskBody(c.Body, r.j.loginID),
	}
	r.j.rec.Lock()
	defer r.j.rec.Unlock()
	for _, t := range r.f.targets(r.j) {
		err := r.f.store.RecordCall(context.WithoutCancel(r.f.base), t.linkID, t.fetch, sc)
		switch {
		case err == nil:
		case errors.Is(err, store.ErrNotFound):
			r.f.drop(r.j, t)
		default:
			r.f.log.Error("fetch: record call", "link", t.linkID, "err", err)
		}
	}
}

// state stores a state change on every attached link: the link's current
// state and a timeline event.
func (r *recorder) state(sc flinks.StateChange) {
	prev := r.stage
	r.stage = sc.Stage
	switch {
	case sc.Stage == flinks.StageRetrying && prev != flinks.StageRetrying:
		r.retried = prev
	case prev == flinks.StageRetrying && sc.Stage == r.retried &&
		(sc.Stage == flinks.StageAuthorizing || sc.Stage == flinks.StageFetching):
		r.stage = flinks.StageRetrying // the retried call starts: still retrying
		return
	}
	polls := sc.Polls + r.polledBefore
	u := store.StateUpdate{RequestID: sc.RequestID, Polls: polls, NextPollAt: sc.NextPoll}
	switch sc.Stage {
	case flinks.StageAuthorizing:
		u.State, u.Note = store.StateAuthorizing, store.NoteOf(store.NoteAuthorizeCached)
		if r.j.live {
			u.Note = store.NoteOf(store.NoteAuthorizeLive)
		}
	case flinks.StageFetching:
		u.State, u.Note = store.StateFetching, store.NoteOf(store.NoteRequestDetails)
	case flinks.StagePending:
		u.State = store.StatePending
		u.Note = store.NoteOf(store.NotePending, polls)
	case flinks.StageRetrying:
		u.State = store.StateRetrying
		u.Note = store.NoteOf(store.NoteRetrying)
		u.ErrorCode, u.ErrorMessage = codeFor(sc.Err), messageFor(sc.Err)
	case flinks.StageReady:
		// The snapshot and the ready state are written together by CompleteFetch.
		return
	case flinks.StageFailed, flinks.StageTimedOut:
		if r.f.pushedTo(r.j) {
			return // a webhook's data stopped the polling: that is the outcome
		}
		if errors.Is(sc.Err, context.Canceled) && r.f.jobStopped(r.j) {
			// Stopped by shutdown, not by Flinks: the links stay unfinished
			// and are resumed at the next start (see run).
			return
		}
		u.State = store.StateFailed
		if sc.Stage == flinks.StageTimedOut {
			u.State = store.StateTimedOut
		}
		u.ErrorCode, u.ErrorMessage = codeFor(sc.Err), messageFor(sc.Err)
		u.Note = store.NoteOf(store.NoteStopped)
		r.failure = &u
		return
	default:
		return
	}
	r.j.rec.Lock()
	defer r.j.rec.Unlock()
	for _, t := range r.f.targets(r.j) {
		r.f.writeState(r.j, t, u)
	}
	r.j.last = &u
}

// codeFor names an error, as the flinks package classifies it.
func codeFor(err error) string { return flinks.Classify(err).Code }

// messageFor is the detail line shown under a failure: Flinks' own message
// when there is one. Client errors never contain the LoginId or keys.
func messageFor(err error) string { return flinks.Classify(err).Message }
