package flinks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// FetchOptions tunes FetchCached. The zero value gives Flinks' recommended cadence.
type FetchOptions struct {
	// PollInterval is the wait between Async polls; default 10 s, as Flinks asks.
	PollInterval time.Duration
	// Timeout caps the pending phase, measured from the first 202; default 30 min,
	// Flinks' own cap. When it runs out FetchCached returns an error wrapping
	// ErrTimedOut. The last poll happens at the deadline.
	//
	// It also bounds the whole fetch, stalled calls and retries included: at
	// Timeout plus a twentieth of it (at most 30 s; room for that last poll)
	// after the first 202 (or the start, before one), whatever is in flight
	// is cut off and the error wraps ErrTimedOut too.
	Timeout time.Duration
	// DaysOfTransactions is Days90 (default) or Days365.
	DaysOfTransactions string
	// AccountsFilter restricts the data to these account Ids (those chosen in
	// Connect's account selector); empty means every account.
	AccountsFilter []string
	// Live makes the Authorize a refresh from the bank ({LoginId,
	// MostRecentCached: false, Save: true}) instead of a read of Flinks'
	// cache. The bank may then ask a security question: the 203 ends the
	// fetch with an error whose RequestId resumes that question in Connect.
	Live bool
	// ResumeRequestID, when set (after a process restart), makes FetchCached start
	// by polling GetAccountsDetailAsync with it; if Flinks no longer knows it
	// (SESSION_NONEXISTENT/SESSION_EXPIRED) it falls back to Authorize. That
	// fallback does not use up the one re-authorization.
	ResumeRequestID string
	// PendingSince, with ResumeRequestID, is when Flinks first answered 202
	// before the restart: Timeout and the whole-fetch limit go on counting
	// from it rather than starting again.
	PendingSince time.Time
	// MaxRetries is how many consecutive transient failures (network errors, 5xx,
	// RETRY_LATER, TOO_MANY_REQUESTS, CARD_IN_USE, CONCURRENT_SESSION, ...) one step
	// tolerates, so a step makes at most MaxRetries+1 attempts. Any answer that is
	// not a failure, including a 202, ends the streak. 0 means the default, 5; a
	// negative value disables retries.
	MaxRetries int
	// BackoffBase and BackoffMax shape the wait before a retry: a uniformly random
	// duration in [0, min(BackoffMax, BackoffBase·2^(n-1))] before the n-th retry
	// ("full jitter"). Defaults 1 s and 30 s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// CallTimeout bounds each HTTP exchange, from sending the request to the last
	// byte of the answer, independently of the HTTP client's own timeout: a call
	// whose headers never come, or whose body stalls, ends as a *TransportError
	// (KindRetryLater) and is retried like a network error. Default
	// DefaultTimeout (4 min), longer than Flinks' 210 s synchronous limit.
	CallTimeout time.Duration
	// Park makes FetchCached return at each 202 instead of waiting out the
	// poll interval: the error is a *Parked, which says when to poll and
	// holds the Checkpoint to pass back in From then. A waiting fetch then
	// holds no goroutine (the caller keeps a due time), so thousands of
	// pending links cost little. Retry backoffs still wait in the call.
	Park bool
	// From continues a parked fetch (see Park) where it stopped: the next
	// step is the Async poll of its RequestId, and every count, limit and
	// the one re-authorization go on from where they were.
	From *Checkpoint
	// OnCall, if set, is called synchronously after every HTTP call, including
	// GenerateAuthorizeToken and retries.
	OnCall func(Call)
	// OnState, if set, is called synchronously on every state change, ending with
	// exactly one of StageReady, StageFailed or StageTimedOut.
	OnState func(StateChange)
	// Now replaces time.Now for timestamps and for the Timeout arithmetic (tests
	// can make 30 minutes pass instantly); waits still use real timers.
	Now func() time.Time
}

func (o FetchOptions) withDefaults() FetchOptions {
	if o.PollInterval <= 0 {
		o.PollInterval = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.DaysOfTransactions == "" {
		o.DaysOfTransactions = Days90
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = 5
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 30 * time.Second
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffBase)
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Call records one HTTP exchange made by FetchCached, for a timeline.
type Call struct {
	Endpoint   string // "GenerateAuthorizeToken", "Authorize", "GetAccountsDetail" or "GetAccountsDetailAsync"
	Method     string
	StatusCode int // 0 when no status line arrived (a network error before the answer)
	FlinksCode string
	RequestID  string
	// Attempt is the 1-based attempt number within the step; for
	// GetAccountsDetailAsync it is the n-th poll of this fetch. A
	// GenerateAuthorizeToken call shares the number of the Authorize attempt it
	// belongs to.
	Attempt  int
	Started  time.Time
	Duration time.Duration
	// Err is the network or decoding error text, scrubbed of keys, tokens and the
	// LoginId; "" when a response was read and, for a 2xx, decoded.
	Err string
	// Body is the raw response body, capped at 256 KiB, with the API key, secret
	// key and authorize tokens redacted; nil when no complete answer arrived
	// (Err says why). It still contains
	// the LoginId (Login.Id) and personal data (holder, account numbers): mask it
	// before showing or storing it.
	Body []byte
}

// Stage is the phase of a FetchCached run.
type Stage string

// The stages reported through FetchOptions.OnState.
const (
	StageAuthorizing Stage = "authorizing" // before each Authorize attempt
	StageFetching    Stage = "fetching"    // before each GetAccountsDetail attempt, and before a resumed poll
	StagePending     Stage = "pending"     // after each 202; NextPoll says when the next poll happens
	StageRetrying    Stage = "retrying"    // before a backoff wait; Err is the transient failure
	StageReady       Stage = "ready"       // terminal: data returned
	StageFailed      Stage = "failed"      // terminal: Err is the returned error (also on cancellation)
	StageTimedOut    Stage = "timed_out"   // terminal: Timeout ran out while pending
)

// StateChange is reported on every change of stage of FetchCached.
type StateChange struct {
	Stage     Stage
	RequestID string    // the current RequestId, when known
	Polls     int       // number of 202 answers seen so far
	NextPoll  time.Time // for pending and retrying: when the next call happens
	Err       error     // for retrying, failed and timed_out: the cause
}

// FetchCached runs the cached flow for a LoginId obtained from Flinks Connect and
// returns its accounts with 90 (or 365) days of transactions:
//
//  1. Authorize {LoginId, MostRecentCached: true}, with a fresh authorize token
//     when a SecretKey is configured;
//  2. GetAccountsDetail with NewDetailRequest(RequestId);
//  3. on 202 (OPERATION_PENDING or OPERATION_DISPATCHED), GET
//     GetAccountsDetailAsync/{RequestId} every PollInterval until a 200, a
//     terminal error or Timeout (an error wrapping ErrTimedOut and the last 202).
//
// SESSION_NONEXISTENT/SESSION_EXPIRED cause one new Authorize (new RequestId) and
// a new GetAccountsDetail; a second one fails. Transient failures are retried with
// backoff (see FetchOptions.MaxRetries); every other error is returned at once.
// A cancelled ctx stops it promptly with an error wrapping ctx.Err().
//
// It is meant to run in a background goroutine; progress is reported through
// opts.OnCall and opts.OnState, synchronously. The loginID appears in no error,
// Call (except Call.Body) or StateChange.
func (c *Client) FetchCached(ctx context.Context, loginID string, opts FetchOptions) (*AccountsDetail, error) {
	f := &fetcher{c: c, loginID: loginID, o: opts.withDefaults()}
	f.obs = &observer{
		now:         f.o.Now,
		callTimeout: f.o.CallTimeout,
		private:     []string{loginID},
		onCall: func(call Call) {
			call.Attempt = f.attempt
			if f.o.OnCall != nil {
				f.o.OnCall(call)
			}
		},
	}
	f.started = time.Now()
	if f.o.From != nil {
		f.restore(f.o.From)
	}
	f.obs.limit = f.limit
	d, err := f.run(ctx)
	var parked *Parked
	if errors.As(err, &parked) {
		return nil, err // not an end: the caller polls again at parked.Until
	}
	if err != nil && ctx.Err() == nil && !time.Now().Before(f.limit()) && !errors.Is(err, ErrTimedOut) {
		err = f.timedOut(err)
	}
	switch {
	case err == nil:
		f.state(StateChange{Stage: StageReady})
	case errors.Is(err, ErrTimedOut):
		f.state(StateChange{Stage: StageTimedOut, Err: err})
	default:
		f.state(StateChange{Stage: StageFailed, Err: err})
	}
	return d, err
}

// fetcher is the state of one FetchCached run.
type fetcher struct {
	c       *Client
	loginID string
	o       FetchOptions
	obs     *observer

	attempt      int // stamped on the next Call
	requestID    string
	polls        int // 202 answers seen
	asyncCalls   int // GetAccountsDetailAsync calls made
	pendingSince time.Time
	authorized   bool // an Authorize succeeded in this run
	reauthorized bool // the one re-authorization has been used
	// started and pendingReal are real-time marks (FetchOptions.Now may be a
	// test's clock) of the start and of the first 202: the whole-fetch limit
	// counts from the first 202 once there is one, like the pending cap.
	started, pendingReal time.Time
	lastPending          *Error // the last 202
	// replayed is the cached Authorize's QUESTION_NOT_FOUND whose RequestId
	// is being tried for the cached data; nil otherwise.
	replayed *Error
}

type step int

const (
	stepAuthorize step = iota
	stepFetch
	stepResume
	stepPoll
)

func (f *fetcher) run(ctx context.Context) (*AccountsDetail, error) {
	if strings.TrimSpace(f.loginID) == "" {
		return nil, fmt.Errorf("flinks: FetchCached: %w", errEmptyID)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("flinks: FetchCached: %w", err)
	}
	next := stepAuthorize
	if f.o.From != nil {
		next = stepPoll
	} else if f.o.ResumeRequestID != "" {
		f.requestID = f.o.ResumeRequestID
		next = stepResume
		if !f.o.PendingSince.IsZero() {
			f.pendingSince, f.pendingReal = f.o.PendingSince, f.o.PendingSince
		}
	}
	for {
		var (
			d   *AccountsDetail
			err error
		)
		switch next {
		case stepAuthorize:
			err := f.authorize(ctx)
			if err == nil {
				next = stepFetch
				continue
			}
			// A cached Authorize made while Connect's scrape still runs can
			// itself answer 202; its RequestId is then polled like a data
			// call's (Flinks: "call the Async endpoint with the same Request Id").
			var fe *Error
			switch {
			case !errors.As(err, &fe) || fe.RequestID == "":
				return nil, err
			case fe.Kind() == KindPending:
				f.requestID, f.authorized = fe.RequestID, true
				if err := f.pending(ctx, fe); err != nil {
					return nil, err
				}
				next = stepPoll
			case strings.EqualFold(fe.FlinksCode, "QUESTION_NOT_FOUND") && f.replayed == nil:
				// A cached Authorize replays the last refresh's MFA failure, yet
				// its RequestId can still read the cached data (Flinks' help:
				// "cached errors"). Try; only when no data comes is it final.
				f.requestID, f.authorized, f.replayed = fe.RequestID, true, fe
				next = stepFetch
			default:
				return nil, err
			}
			continue
		case stepFetch:
			d, err = f.fetch(ctx)
		case stepResume:
			f.state(StateChange{Stage: StageFetching})
			d, err = f.poll(ctx)
		case stepPoll:
			d, err = f.poll(ctx)
		}
		if err == nil {
			if err := f.owns(d); err != nil {
				return nil, err
			}
			d.Replayed = f.replayed
			return d, nil
		}
		var fe *Error
		if errors.Is(err, ErrTimedOut) || !errors.As(err, &fe) {
			// (ErrTimedOut wraps the last 202: it is not another one.)
			return nil, f.orReplayed(err)
		}
		switch fe.Kind() {
		case KindPending:
			if err := f.pending(ctx, fe); err != nil {
				return nil, err
			}
			next = stepPoll
		case KindReauthorize:
			if f.reauthorized || f.replayed != nil {
				return nil, f.orReplayed(err)
			}
			// A resumed RequestId that expired is not a re-authorization: this
			// run has not authorized yet.
			if f.authorized {
				f.reauthorized = true
			}
			next = stepAuthorize
		default:
			return nil, f.orReplayed(err)
		}
	}
}

// orReplayed is the error to end with when a data call failed: after a
// replayed QUESTION_NOT_FOUND, that answer is what the person must act on
// (reconnect), not the data call's failure. A cancellation stays itself.
func (f *fetcher) orReplayed(err error) error {
	if f.replayed == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimedOut) {
		return err
	}
	return f.replayed
}

// replayRetries is how often a cached Authorize's Flinks answer (RETRY_LATER,
// say) is retried: a cached Authorize replays the result of the card's last
// refresh, so asking again mostly gets the same answer (Flinks' help: cached
// errors). Network failures still get MaxRetries.
const replayRetries = 1

func (f *fetcher) authorize(ctx context.Context) error {
	f.requestID = ""
	err := f.retryCapped(ctx, func(err error) int {
		var fe *Error
		if errors.As(err, &fe) && fe.FlinksCode != "" {
			return min(replayRetries, f.o.MaxRetries)
		}
		return f.o.MaxRetries
	}, func(attempt int) error {
		f.state(StateChange{Stage: StageAuthorizing})
		f.attempt = attempt
		// No token in the request: each attempt mints a fresh one, since a token
		// is single use and a failed attempt may have consumed it.
		req := AuthorizeRequest{LoginID: f.loginID, MostRecentCached: true}
		if f.o.Live {
			req = AuthorizeRequest{LoginID: f.loginID, MostRecentCached: false, Save: true}
		}
		resp, err := f.c.authorize(ctx, f.obs, req)
		if err != nil {
			return err
		}
		if resp.NeedsMFA() {
			// This flow cannot answer a security question: the person answers it
			// in Connect, which resumes this RequestId (Connect's requestId).
			f.requestID = resp.RequestID
			msg := "security challenge on a cached Authorize"
			if f.o.Live {
				msg = "the bank asks a security question to refresh"
			}
			return &Error{
				Endpoint:   epAuthorize,
				StatusCode: resp.HTTPStatusCode,
				Message:    msg,
				RequestID:  resp.RequestID,
			}
		}
		if resp.Login.ID != "" && !strings.EqualFold(resp.Login.ID, f.loginID) {
			return fmt.Errorf("%w: Authorize answered for another LoginId", ErrForeignData)
		}
		f.requestID = resp.RequestID
		return nil
	})
	if err == nil {
		f.authorized = true
	}
	return err
}

func (f *fetcher) fetch(ctx context.Context) (*AccountsDetail, error) {
	req := NewDetailRequest(f.requestID)
	req.DaysOfTransactions = f.o.DaysOfTransactions
	req.AccountsFilter = f.o.AccountsFilter
	var d *AccountsDetail
	err := f.retry(ctx, func(attempt int) error {
		f.state(StateChange{Stage: StageFetching})
		f.attempt = attempt
		var err error
		d, err = f.c.getAccountsDetail(ctx, f.obs, req)
		return err
	})
	return d, err
}

func (f *fetcher) poll(ctx context.Context) (*AccountsDetail, error) {
	var d *AccountsDetail
	err := f.retry(ctx, func(int) error {
		f.asyncCalls++
		f.attempt = f.asyncCalls
		var err error
		d, err = f.c.getAccountsDetailAsync(ctx, f.obs, f.requestID)
		return err
	})
	return d, err
}

// timedOut is the error of a fetch stopped by its limit while a call or a
// wait was under way (cause): it wraps ErrTimedOut and, when Flinks had
// answered 202, the last 202, as the pending cap's error does.
func (f *fetcher) timedOut(cause error) error {
	if f.lastPending != nil {
		return fmt.Errorf("%w after %d polls over %s (the last call cut off: %v): %w", ErrTimedOut, f.polls,
			time.Since(f.pendingReal).Round(time.Millisecond), cause, f.lastPending)
	}
	return fmt.Errorf("%w: the whole fetch ran into its %s limit after %s: %w",
		ErrTimedOut, f.o.Timeout, time.Since(f.started).Round(time.Millisecond), cause)
}

// limit is the latest moment (real time) any call of this fetch may run
// to: Timeout, plus a twentieth of it (at most 30 s) for the pending phase's
// last poll, from the first 202 or, before one, from the start.
func (f *fetcher) limit() time.Time {
	from := f.started
	if !f.pendingReal.IsZero() {
		from = f.pendingReal
	}
	return from.Add(f.o.Timeout + min(f.o.Timeout/20, 30*time.Second))
}

// owns checks that data belongs to this fetch: its Login.Id and RequestId,
// when the answer names them, are this LoginId and the RequestId asked about
// (Flinks' ids are GUIDs, compared ignoring case). Data for another card is
// never returned, whatever else it holds.
func (f *fetcher) owns(d *AccountsDetail) error {
	switch {
	case d.Login.ID != "" && !strings.EqualFold(d.Login.ID, f.loginID):
		return fmt.Errorf("%w: the answer names another LoginId", ErrForeignData)
	case d.RequestID != "" && f.requestID != "" && !strings.EqualFold(d.RequestID, f.requestID):
		return fmt.Errorf("%w: the answer is for another RequestId", ErrForeignData)
	}
	return nil
}

// pending handles a 202: counts it, enforces Timeout and waits for the next poll.
func (f *fetcher) pending(ctx context.Context, last *Error) error {
	f.polls++
	f.lastPending = last
	now := f.o.Now()
	if f.pendingSince.IsZero() {
		f.pendingSince, f.pendingReal = now, time.Now()
	}
	deadline := f.pendingSince.Add(f.o.Timeout)
	if !now.Before(deadline) {
		return fmt.Errorf("%w after %d polls over %s: %w",
			ErrTimedOut, f.polls, now.Sub(f.pendingSince).Round(time.Millisecond), last)
	}
	// The final poll happens at the deadline rather than a full interval later.
	wait := min(f.o.PollInterval, deadline.Sub(now))
	f.state(StateChange{Stage: StagePending, NextPoll: now.Add(wait)})
	if f.o.Park {
		return &Parked{Until: time.Now().Add(wait), Checkpoint: f.checkpoint()}
	}
	return sleep(ctx, wait)
}

// Parked is what FetchCached returns, as its error, at a 202 when
// FetchOptions.Park is set: Flinks is still working, and the fetch goes on
// with FetchCached(..., FetchOptions{From: Checkpoint, ...}) at Until. It is
// not a failure, and no terminal state was reported.
type Parked struct {
	Until      time.Time // real time: when Flinks should be polled next
	Checkpoint *Checkpoint
}

func (p *Parked) Error() string {
	return fmt.Sprintf("flinks: FetchCached: pending on %s; poll again at %s", p.Checkpoint.RequestID, p.Until.Format(time.RFC3339Nano))
}

// Checkpoint is a parked fetch's progress (see FetchOptions.Park): the
// RequestId being polled, the counts and limits running, the one
// re-authorization. It holds no LoginId.
type Checkpoint struct {
	RequestID string
	Polls     int // 202 answers seen
	// The rest continues the run exactly.
	asyncCalls           int
	pendingSince         time.Time
	started, pendingReal time.Time
	authorized           bool
	reauthorized         bool
	lastPending          *Error
	replayed             *Error
}

func (f *fetcher) checkpoint() *Checkpoint {
	return &Checkpoint{
		RequestID: f.requestID, Polls: f.polls, asyncCalls: f.asyncCalls, pendingSince: f.pendingSince,
		started: f.started, pendingReal: f.pendingReal, authorized: f.authorized, reauthorized: f.reauthorized,
		lastPending: f.lastPending, replayed: f.replayed,
	}
}

func (f *fetcher) restore(c *Checkpoint) {
	f.requestID, f.polls, f.asyncCalls, f.pendingSince = c.RequestID, c.Polls, c.asyncCalls, c.pendingSince
	f.started, f.pendingReal, f.authorized, f.reauthorized = c.started, c.pendingReal, c.authorized, c.reauthorized
	f.lastPending, f.replayed = c.lastPending, c.replayed
}

// retry runs call until it succeeds, fails with anything but a transient error, the
// context ends, or MaxRetries consecutive transient failures have been retried.
func (f *fetcher) retry(ctx context.Context, call func(attempt int) error) error {
	return f.retryCapped(ctx, func(error) int { return f.o.MaxRetries }, call)
}

// retryCapped is retry with the number of retries chosen by the failure.
func (f *fetcher) retryCapped(ctx context.Context, retries func(error) int, call func(attempt int) error) error {
	failures := 0
	for attempt := 1; ; attempt++ {
		err := call(attempt)
		if err == nil {
			return nil
		}
		// A call that failed while ctx was being cancelled reports the
		// cancellation, whatever the call itself saw.
		if ctxErr := ctx.Err(); ctxErr != nil {
			if errors.Is(err, ctxErr) {
				return err
			}
			return fmt.Errorf("flinks: FetchCached: %w", ctxErr)
		}
		if KindOf(err) != KindRetryLater {
			return err
		}
		failures++
		if failures > retries(err) {
			return err
		}
		delay := f.backoff(failures)
		var fe *Error
		if errors.As(err, &fe) && fe.RetryAfter > delay {
			delay = fe.RetryAfter // Flinks said when to come back
		}
		if remaining := time.Until(f.limit()); remaining < delay {
			// The wait would outlast the fetch's limit: that ends it now.
			return f.timedOut(err)
		}
		f.state(StateChange{Stage: StageRetrying, NextPoll: f.o.Now().Add(delay), Err: err})
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// backoff returns the full-jitter wait before the n-th retry.
func (f *fetcher) backoff(n int) time.Duration {
	d := f.o.BackoffBase
	for i := 1; i < n && d < f.o.BackoffMax; i++ {
		if d > f.o.BackoffMax/2 {
			d = f.o.BackoffMax
			break
		}
		d *= 2
	}
	d = min(d, f.o.BackoffMax)
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func (f *fetcher) state(sc StateChange) {
	sc.RequestID = f.requestID
	sc.Polls = f.polls
	if f.o.OnState != nil {
		f.o.OnState(sc)
	}
}

// sleep waits for d or until ctx ends; a timer and select, so cancellation is
// immediate.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("flinks: FetchCached: %w", err)
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("flinks: FetchCached: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}
