// Package handlers is the app's HTTP layer: routes, sessions, the Flinks Connect
// redirect handler and the pages that show a link's progress and summary. It
// turns store records into views' view models and hands background work to a
// Fetcher; it never talks to Flinks' data endpoints itself, so the browser's
// polls only ever read our own state.
package handlers

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/sessions"

	"flinkslink/handlers/fetcher"
	"flinkslink/handlers/parking"
	"flinkslink/store"
	"flinkslink/views"
)

// Store is what the handlers need from persistence.
type Store interface {
	Ping(ctx context.Context) error
	// Writable is the disk failure of the last write, nil when it succeeded.
	Writable() error
	// Listening is why changes from other instances do not reach this one
	// now, or nil (store.DB.Listening).
	Listening() error
	CreateLink(ctx context.Context, l store.NewLink) (store.Link, bool, error)
	LinkForSession(ctx context.Context, sessionID, linkID string) (store.Link, error)
	LinksForSession(ctx context.Context, sessionID string) ([]store.Link, error)
	Snapshot(ctx context.Context, linkID string) (store.Snapshot, error)
	SnapshotBrief(ctx context.Context, linkID string) (store.Snapshot, error)
	StartNewFetch(ctx context.Context, linkID string) (store.Link, error)
	StartRefreshFromBank(ctx context.Context, linkID string) (store.Link, error)
	LoginID(ctx context.Context, linkID string) (string, error)
	LinksByLoginID(ctx context.Context, loginID string) ([]store.Link, error)
	LinksByRequestID(ctx context.Context, requestID string) ([]store.Link, error)
	LinksByTag(ctx context.Context, tag string) ([]store.Link, error)
	DeleteLink(ctx context.Context, linkID string) error
	MoveSessionLinks(ctx context.Context, from, to string) (int, error)
	// OnChange calls fn once at the link's next change (store.DB.OnChange).
	OnChange(linkID string, fn func()) (stop func())
	RecordWebhook(ctx context.Context, body []byte) (bool, error)
	ForgetWebhook(ctx context.Context, body []byte) error
	TimelineStore
}

// Fetcher runs a link's Flinks fetch in the background, on the server's
// lifetime rather than the request's. Start returns at once and is idempotent:
// a fetch already running for the link is not started twice.
type Fetcher interface {
	Start(linkID string, fetch int)
	// Cancel ends a link's running fetch at its owner's request (see
	// fetcher.Fetcher.Cancel); store.ErrStale when it had already ended.
	Cancel(ctx context.Context, linkID string, fetch int) error
}

// TokenSource mints Flinks authorize tokens for the Connect iframe. It is nil
// when no secret key is configured (older Flinks integrations need none).
type TokenSource interface {
	GenerateAuthorizeToken(ctx context.Context) (string, error)
}

// Config is the handlers' share of the app's configuration.
type Config struct {
	// ConnectURL is the Flinks Connect iframe base, e.g.
	// https://toolbox-iframe.private.fin.ag/v2/ or /sandbox/v2/ (relative: same origin).
	ConnectURL *url.URL
	// PublicURL, when set, is the external base URL used to build Connect's
	// redirectUrl; otherwise it comes from the request.
	PublicURL *url.URL
	// Demo adds demo=true to the Connect URL, which shows the Flinks Capital test bank.
	Demo bool
	// AccountSelector turns on Connect's account selector: "single" or
	// "multiple" (FLINKS_ACCOUNT_SELECTOR); "" leaves it off. The chosen
	// accounts come back on the redirect and are fetched as AccountsFilter.
	AccountSelector string
	// Sandbox is true when the embedded sandbox plays Flinks; the landing page then
	// lists its test users.
	Sandbox   bool
	Scenarios []views.ScenarioView
	// PollEvery is how often the browser polls a link in the list (our
	// state, not Flinks), and how soon a link page asks again after a status
	// request failed.
	PollEvery time.Duration
	// LongPollWait is how long a link page's status request waits for a
	// change before answering anyway; zero means DefaultLongPollWait.
	LongPollWait time.Duration
	// Workers reports the background fetches' health for /healthz; nil:
	// not reported.
	Workers interface{ Health() fetcher.Health }
	// Parking holds waiting status requests with no goroutine (main wraps
	// the server's listener in it); nil: each waits on a goroutine.
	Parking *parking.Lot
	// SecureCookies marks cookies Secure; main sets it when PublicURL is https.
	SecureCookies bool
	// RateLimits bound the redirect handler, "Try again", "Refresh data" and
	// "Delete"; zero (as a whole or per field) means DefaultRateLimits.
	RateLimits RateLimits
	// Cards deletes a LoginId at Flinks ("Delete"); main passes the Flinks client.
	// Nil: deleting is refused.
	Cards CardDeleter
	// SandboxPending is the embedded sandbox's pending-duration control, shown
	// on the scenario card; nil hides it (and its route answers 404).
	SandboxPending PendingOverrider
	// FetchTimeout is the server's fetch time limit (FLINKS_POLL_TIMEOUT),
	// shown beside the QA time-limit control.
	FetchTimeout time.Duration
	// LongerThanUsual is the fetch time after which a pending link says it is
	// taking longer than usual; zero means DefaultLongerThanUsual.
	LongerThanUsual time.Duration
	// SessionKey keys the new session id a browser gets when it links an
	// account (see rotateSession); empty: a random key per process.
	SessionKey []byte
	// WebhookSecret verifies Flinks' webhooks (FLINKS_WEBHOOK_SECRET); empty:
	// the webhook route does not exist. Webhooks receives their data.
	WebhookSecret string
	Webhooks      Webhooks
	// ConnectRefreshAfter is how long the landing page's Connect frame may
	// sit unused before it is reloaded with a new authorize token (which
	// Flinks expires after 15 to 30 minutes); zero means 10 minutes.
	ConnectRefreshAfter time.Duration
	// Now is the handlers' clock (elapsed times, "taking longer than usual");
	// nil means time.Now. Tests pin it.
	Now func() time.Time
}

// Handler serves every route of the app.
type Handler struct {
	log      *slog.Logger
	cfg      Config
	store    Store
	fetcher  Fetcher
	tokens   TokenSource
	sessions sessions.Store
	now      func() time.Time
	// webhookSlots bounds the webhook bodies read at once.
	webhookSlots chan struct{}
	webhooks     Webhooks
	// tokenPerIP and tokenGlobal bound the authorize tokens landing pages mint.
	tokenPerIP, tokenGlobal limiter
	// summaries keeps rendered account summaries (see renderedSummaries).
	summaries renderedSummaries
	// draining is closed by Drain: the server stops, long polls answer now.
	draining  chan struct{}
	drainOnce sync.Once
}

// New returns a Handler. tokens may be nil.
func New(log *slog.Logger, cfg Config, st Store, f Fetcher, tokens TokenSource, ss sessions.Store) *Handler {
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = time.Second
	}
	for _, l := range []struct{ limit, def *Limit }{
		{&cfg.RateLimits.Callback, &DefaultRateLimits.Callback},
		{&cfg.RateLimits.Retry, &DefaultRateLimits.Retry},
		{&cfg.RateLimits.Refresh, &DefaultRateLimits.Refresh},
		{&cfg.RateLimits.Delete, &DefaultRateLimits.Delete},
		{&cfg.RateLimits.CallbackPerIP, &DefaultRateLimits.CallbackPerIP},
		{&cfg.RateLimits.CallbackGlobal, &DefaultRateLimits.CallbackGlobal},
		{&cfg.RateLimits.TokenPerIP, &DefaultRateLimits.TokenPerIP},
		{&cfg.RateLimits.TokenGlobal, &DefaultRateLimits.TokenGlobal},
	} {
		if *l.limit == (Limit{}) {
			*l.limit = *l.def
		}
	}
	if cfg.LongPollWait <= 0 {
		cfg.LongPollWait = DefaultLongPollWait
	}
	if cfg.ConnectRefreshAfter <= 0 {
		cfg.ConnectRefreshAfter = 10 * time.Minute
	}
	if cfg.LongerThanUsual <= 0 {
		cfg.LongerThanUsual = DefaultLongerThanUsual
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if len(cfg.SessionKey) == 0 {
		cfg.SessionKey = make([]byte, 32)
		_, _ = rand.Read(cfg.SessionKey) // crypto/rand.Read never fails
	}
	return &Handler{log: log, cfg: cfg, store: st, fetcher: f, tokens: tokens, sessions: ss, now: now,
		webhookSlots: make(chan struct{}, maxWebhooksAtOnce), webhooks: cfg.Webhooks, draining: make(chan struct{}),
		tokenPerIP: newLimiter(cfg.RateLimits.TokenPerIP), tokenGlobal: newLimiter(cfg.RateLimits.TokenGlobal)}
}
