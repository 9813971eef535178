package sandbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// The sandbox keeps all of its state in SQLite so that a restart changes
// nothing: a scrape is a start and an end time, never a goroutine, and every
// answer is computed from the clock and these rows. Times are stored as Unix
// nanoseconds (0 = unset).

const schema = `
CREATE TABLE IF NOT EXISTS tokens (
	token      TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0,
	used_for   TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS logins (
	id           TEXT PRIMARY KEY,
	username     TEXT    NOT NULL,
	scenario     TEXT    NOT NULL,
	language     TEXT    NOT NULL,
	tag          TEXT    NOT NULL DEFAULT '',
	scheduled    INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	scrape_start INTEGER NOT NULL,
	scrape_end   INTEGER NOT NULL DEFAULT 0,
	scrape_never INTEGER NOT NULL DEFAULT 0,
	busy_until   INTEGER NOT NULL DEFAULT 0,
	busy_request TEXT    NOT NULL DEFAULT '',
	expiry_shown INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS requests (
	id               TEXT PRIMARY KEY,
	login_id         TEXT    NOT NULL DEFAULT '',
	username         TEXT    NOT NULL DEFAULT '',
	scenario         TEXT    NOT NULL DEFAULT '',
	state            TEXT    NOT NULL,
	tag              TEXT    NOT NULL DEFAULT '',
	language         TEXT    NOT NULL DEFAULT 'en',
	prompt           INTEGER NOT NULL DEFAULT 0,
	scheduled        INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	last_activity    INTEGER NOT NULL,
	data_started     INTEGER NOT NULL DEFAULT 0,
	data_endpoint    TEXT    NOT NULL DEFAULT '',
	data_params      TEXT    NOT NULL DEFAULT '',
	blocked_until    INTEGER NOT NULL DEFAULT 0,
	dispatched_until INTEGER NOT NULL DEFAULT 0,
	polls            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_login ON requests(login_id);
CREATE TABLE IF NOT EXISTS connect_sessions (
	id          TEXT PRIMARY KEY,
	params      TEXT    NOT NULL,
	step        TEXT    NOT NULL,
	username    TEXT    NOT NULL DEFAULT '',
	prompt      INTEGER NOT NULL DEFAULT 0,
	login_id    TEXT    NOT NULL DEFAULT '',
	request_id  TEXT    NOT NULL DEFAULT '',
	token_used  INTEGER NOT NULL DEFAULT 0,
	failures    INTEGER NOT NULL DEFAULT 0,
	updated_at  INTEGER NOT NULL
);
`

// openDB opens (or creates) the state database; path "" keeps it in memory.
func openDB(path string) (*sql.DB, error) {
	dsn := ":memory:"
	if path != "" {
		// A file: URI, so escape what URI parsing would otherwise eat.
		esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
		dsn = "file:" + esc + "?_busy_timeout=5000&_journal_mode=WAL"
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sandbox state: %w", err)
	}
	// One connection: an in-memory database lives in its connection, and the
	// server serialises all state changes anyway.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if _, err := db.Exec(schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("create sandbox schema: %w", err)
	}
	return db, nil
}

func toNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// token is an authorize token minted by GenerateAuthorizeToken.
type token struct {
	Token     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero while unused
	UsedFor   string    // RequestId of the Authorize that consumed it
}

func (s *Server) insertToken(ctx context.Context, t *token) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO tokens(token, created_at, expires_at) VALUES (?, ?, ?)`,
		t.Token, toNS(t.CreatedAt), toNS(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	return nil
}

// getToken returns nil, nil when the token does not exist.
func (s *Server) getToken(ctx context.Context, tok string) (*token, error) {
	var t token
	var created, expires, used int64
	err := s.db.QueryRowContext(ctx, `SELECT token, created_at, expires_at, used_at, used_for FROM tokens WHERE token = ?`, tok).
		Scan(&t.Token, &created, &expires, &used, &t.UsedFor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromNS(created), fromNS(expires), fromNS(used)
	return &t, nil
}

func (s *Server) useToken(ctx context.Context, tok string, at time.Time, requestID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE tokens SET used_at = ?, used_for = ? WHERE token = ?`, toNS(at), requestID, tok)
	if err != nil {
		return fmt.Errorf("use token: %w", err)
	}
	return nil
}

// login is a saved connection (a LoginId) and its latest background scrape.
type login struct {
	ID          string
	Username    string // canonical spelling, e.g. "Greatday"
	Scenario    string // scenario key
	Language    string
	Tag         string
	Scheduled   bool
	CreatedAt   time.Time
	ScrapeStart time.Time
	ScrapeEnd   time.Time // meaningless when ScrapeNever
	ScrapeNever bool
	BusyUntil   time.Time // a data call was served: other RequestIds wait until then
	BusyRequest string
	ExpiryShown bool // test_expired: the one forced expiry has happened
}

// scraping reports whether the background scrape is still running at now.
func (l *login) scraping(now time.Time) bool {
	return l.ScrapeNever || now.Before(l.ScrapeEnd)
}

func (s *Server) saveLogin(ctx context.Context, l *login) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO logins
		(id, username, scenario, language, tag, scheduled, created_at, scrape_start, scrape_end, scrape_never, busy_until, busy_request, expiry_shown)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.Username, l.Scenario, l.Language, l.Tag, b2i(l.Scheduled), toNS(l.CreatedAt), toNS(l.ScrapeStart),
		toNS(l.ScrapeEnd), b2i(l.ScrapeNever), toNS(l.BusyUntil), l.BusyRequest, b2i(l.ExpiryShown))
	if err != nil {
		return fmt.Errorf("save login: %w", err)
	}
	return nil
}

// getLogin returns nil, nil when the LoginId is unknown (or deleted).
func (s *Server) getLogin(ctx context.Context, id string) (*login, error) {
	var l login
	var scheduled, never, shown int
	var created, start, end, busy int64
	err := s.db.QueryRowContext(ctx, `SELECT id, username, scenario, language, tag, scheduled, created_at, scrape_start,
		scrape_end, scrape_never, busy_until, busy_request, expiry_shown FROM logins WHERE id = ? COLLATE NOCASE`, id).
		Scan(&l.ID, &l.Username, &l.Scenario, &l.Language, &l.Tag, &scheduled, &created, &start, &end, &never, &busy,
			&l.BusyRequest, &shown)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get login: %w", err)
	}
	l.Scheduled, l.ScrapeNever, l.ExpiryShown = scheduled == 1, never == 1, shown == 1
	l.CreatedAt, l.ScrapeStart, l.ScrapeEnd, l.BusyUntil = fromNS(created), fromNS(start), fromNS(end), fromNS(busy)
	return &l, nil
}

// deleteLogin removes a login and every RequestId opened on it.
func (s *Server) deleteLogin(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM requests WHERE login_id = ?`, id); err != nil {
		return fmt.Errorf("delete requests: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM logins WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete login: %w", err)
	}
	return nil
}

// Request states. A RequestId goes mfa -> authorized <-> pending, and any
// state may end in expired (test_expired) or simply time out.
const (
	stateMFA        = "mfa"        // 203 sent, waiting for the answer
	stateAuthorized = "authorized" // 200 from Authorize, or data delivered
	statePending    = "pending"    // a data call answered 202 and awaits its poll
	stateExpired    = "expired"
)

// request is a RequestId: one Authorize session.
type request struct {
	ID              string
	LoginID         string // empty while MFA is pending
	Username        string // canonical username, for the MFA step
	Scenario        string
	State           string
	Tag             string
	Language        string
	Prompt          int
	Scheduled       bool
	CreatedAt       time.Time
	LastActivity    time.Time
	DataStarted     time.Time
	DataEndpoint    string // "GetAccountsDetail" or "GetAccountsSummary"
	DataParams      string // storedParams JSON
	BlockedUntil    time.Time
	DispatchedUntil time.Time
	Polls           int
}

func (s *Server) saveRequest(ctx context.Context, r *request) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO requests
		(id, login_id, username, scenario, state, tag, language, prompt, scheduled, created_at, last_activity,
		 data_started, data_endpoint, data_params, blocked_until, dispatched_until, polls)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.LoginID, r.Username, r.Scenario, r.State, r.Tag, r.Language, r.Prompt, b2i(r.Scheduled),
		toNS(r.CreatedAt), toNS(r.LastActivity), toNS(r.DataStarted), r.DataEndpoint, r.DataParams,
		toNS(r.BlockedUntil), toNS(r.DispatchedUntil), r.Polls)
	if err != nil {
		return fmt.Errorf("save request: %w", err)
	}
	return nil
}

// getRequest returns nil, nil when the RequestId is unknown.
func (s *Server) getRequest(ctx context.Context, id string) (*request, error) {
	var r request
	var scheduled int
	var created, last, started, blocked, dispatched int64
	err := s.db.QueryRowContext(ctx, `SELECT id, login_id, username, scenario, state, tag, language, prompt, scheduled,
		created_at, last_activity, data_started, data_endpoint, data_params, blocked_until, dispatched_until, polls
		FROM requests WHERE id = ? COLLATE NOCASE`, id).
		Scan(&r.ID, &r.LoginID, &r.Username, &r.Scenario, &r.State, &r.Tag, &r.Language, &r.Prompt, &scheduled,
			&created, &last, &started, &r.DataEndpoint, &r.DataParams, &blocked, &dispatched, &r.Polls)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get request: %w", err)
	}
	r.Scheduled = scheduled == 1
	r.CreatedAt, r.LastActivity, r.DataStarted = fromNS(created), fromNS(last), fromNS(started)
	r.BlockedUntil, r.DispatchedUntil = fromNS(blocked), fromNS(dispatched)
	return &r, nil
}

// Connect steps.
const (
	stepConsent      = "consent"
	stepDenied       = "denied"
	stepInstitutions = "institutions"
	stepCredential   = "credential"
	stepMFA          = "mfa"
	stepAccounts     = "accounts"
	stepDone         = "done"
	stepFailed       = "failed"
)

// connectSession is one load of the Connect iframe. Its id travels in hidden
// form fields rather than a cookie, because iframes often lose third-party
// cookies; it holds no credentials.
type connectSession struct {
	ID        string
	Params    url.Values // the iframe URL's query, as loaded
	Step      string
	Username  string // canonical username once the credentials were accepted
	Prompt    int    // MFA question index
	LoginID   string
	RequestID string
	TokenUsed bool
	Failures  int
	UpdatedAt time.Time
}

func (s *Server) saveSession(ctx context.Context, c *connectSession) error {
	params, err := json.Marshal(c.Params)
	if err != nil {
		return fmt.Errorf("encode session params: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT OR REPLACE INTO connect_sessions
		(id, params, step, username, prompt, login_id, request_id, token_used, failures, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, string(params), c.Step, c.Username, c.Prompt, c.LoginID, c.RequestID, b2i(c.TokenUsed), c.Failures, toNS(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// getSession returns nil, nil when the session id is unknown.
func (s *Server) getSession(ctx context.Context, id string) (*connectSession, error) {
	var c connectSession
	var params string
	var used int
	var updated int64
	err := s.db.QueryRowContext(ctx, `SELECT id, params, step, username, prompt, login_id, request_id, token_used,
		failures, updated_at FROM connect_sessions WHERE id = ?`, id).
		Scan(&c.ID, &params, &c.Step, &c.Username, &c.Prompt, &c.LoginID, &c.RequestID, &used, &c.Failures, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	if err := json.Unmarshal([]byte(params), &c.Params); err != nil {
		return nil, fmt.Errorf("decode session params: %w", err)
	}
	c.TokenUsed = used == 1
	c.UpdatedAt = fromNS(updated)
	return &c, nil
}

// prune drops rows nobody can use any more, so a long-lived state file
// does not grow without bound. Logins are kept: they live until DeleteCard.
func (s *Server) prune(ctx context.Context, now time.Time) error {
	day := now.Add(-24 * time.Hour).UnixNano()
	stmts := []string{
		`DELETE FROM tokens WHERE expires_at < ?`,
		`DELETE FROM connect_sessions WHERE updated_at < ?`,
		`DELETE FROM requests WHERE last_activity < ? AND state != 'pending'`,
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q, day); err != nil {
			return fmt.Errorf("prune state: %w", err)
		}
	}
	return nil
}
