package fetcher

import (
	"context"
	"errors"
	"fmt"

	"flinkslink/flinks"
	"flinkslink/store"
)

// Codes the fetcher records for failures that carry no FlinksCode.
const (
	CodeTimedOut   = "TIMED_OUT"  // Flinks kept answering 202 past the cap
	CodeNetwork    = "NETWORK"    // Flinks could not be reached
	CodeMalformed  = "MALFORMED"  // Flinks answered something unreadable
	CodeUnexpected = "UNEXPECTED" // anything else
)

// recorder persists one fetch's calls and state changes as the client reports them.
type recorder struct {
	f        *Fetcher
	linkID   string
	fetch    int
	loginID  string // only to mask it out of response bodies
	terminal bool   // a terminal state was recorded
}

// call stores one Flinks call in the link's call log, its body masked.
func (r *recorder) call(c flinks.Call) {
	err := r.f.store.RecordCall(context.WithoutCancel(r.f.base), r.linkID, r.fetch, store.Call{
		At:         c.Started,
		Endpoint:   c.Endpoint,
		Method:     c.Method,
		StatusCode: c.StatusCode,
		FlinksCode: c.FlinksCode,
		RequestID:  c.RequestID,
		Attempt:    c.Attempt,
		Duration:   c.Duration,
		Err:        c.Err,
		Body:       MaskBody(c.Body, r.loginID),
	})
	if err != nil && !errors.Is(err, store.ErrStale) {
		r.f.log.Error("fetch: record call", "link", r.linkID, "err", err)
	}
}

// state stores a state change: the link's current state and a timeline event.
func (r *recorder) state(sc flinks.StateChange) {
	u := store.StateUpdate{RequestID: sc.RequestID, Polls: sc.Polls, NextPollAt: sc.NextPoll}
	switch sc.Stage {
	case flinks.StageAuthorizing:
		u.State, u.Note = store.StateAuthorizing, "Opening a cached session with Flinks (Authorize, MostRecentCached)"
	case flinks.StageFetching:
		u.State, u.Note = store.StateFetching, "Requesting account details (GetAccountsDetail)"
	case flinks.StagePending:
		u.State = store.StatePending
		u.Note = fmt.Sprintf("Flinks is still collecting the data (202, answer %d)", sc.Polls)
	case flinks.StageRetrying:
		u.State = store.StateRetrying
		u.Note = "Temporary problem, retrying: " + messageFor(sc.Err)
		u.ErrorCode = codeFor(sc.Err)
	case flinks.StageReady:
		// The snapshot and the ready state are written together by CompleteFetch.
		return
	case flinks.StageFailed, flinks.StageTimedOut:
		r.terminal = true
		u.State = store.StateFailed
		if sc.Stage == flinks.StageTimedOut {
			u.State = store.StateTimedOut
		}
		u.ErrorCode, u.ErrorMessage = codeFor(sc.Err), messageFor(sc.Err)
		u.Note = "Stopped: " + u.ErrorCode
	default:
		return
	}
	err := r.f.store.RecordState(context.WithoutCancel(r.f.base), r.linkID, r.fetch, u)
	if err != nil && !errors.Is(err, store.ErrStale) {
		r.f.log.Error("fetch: record state", "link", r.linkID, "state", u.State, "err", err)
	}
}

// codeFor names an error: the FlinksCode when Flinks gave one, else ours.
func codeFor(err error) string {
	var fe *flinks.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, flinks.ErrTimedOut):
		return CodeTimedOut
	case errors.As(err, &fe) && fe.FlinksCode != "":
		return fe.FlinksCode
	case errors.As(err, &fe) && fe.StatusCode >= 200 && fe.StatusCode < 300:
		return CodeMalformed
	case errors.As(err, &fe):
		return fmt.Sprintf("HTTP_%d", fe.StatusCode)
	default:
		return CodeNetwork
	}
}

// messageFor is the detail line shown under a failure: Flinks' own message
// when there is one. Client errors never contain the LoginId or keys.
func messageFor(err error) string {
	var fe *flinks.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, flinks.ErrTimedOut):
		return "Flinks was still processing when the time limit was reached."
	case errors.As(err, &fe) && fe.Message != "":
		return fe.Message
	case errors.As(err, &fe):
		return fmt.Sprintf("HTTP %d from Flinks", fe.StatusCode)
	default:
		return "Flinks could not be reached."
	}
}
