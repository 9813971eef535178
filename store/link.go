package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// State is where a link is in fetching its data from Flinks.
type State string

// The states of a link. A fetch starts in StateReceived and ends in one of the terminal states.
const (
	StateReceived    State = "received"    // LoginId received; the fetch has not started yet
	StateAuthorizing State = "authorizing" // calling Flinks /Authorize
	StateFetching    State = "fetching"    // asking Flinks for the accounts
	StatePending     State = "pending"     // Flinks answered 202: still collecting; waiting to poll again
	StateRetrying    State = "retrying"    // a call failed in a way worth retrying; waiting to retry
	StateReady       State = "ready"       // the snapshot is stored (terminal)
	StateFailed      State = "failed"      // Flinks or the network said no (terminal)
	StateTimedOut    State = "timed_out"   // gave up waiting for Flinks (terminal)
)

// Terminal reports whether s ends a fetch: ready, failed or timed_out.
func (s State) Terminal() bool {
	return s == StateReady || s == StateFailed || s == StateTimedOut
}

// valid reports whether s is one of the states above.
func (s State) valid() bool {
	switch s {
	case StateReceived, StateAuthorizing, StateFetching, StatePending, StateRetrying,
		StateReady, StateFailed, StateTimedOut:
		return true
	}
	return false
}

// failure reports whether s is a terminal state that carries an error.
func (s State) failure() bool { return s == StateFailed || s == StateTimedOut }

// Link is one bank connection of a browser session: a Flinks LoginId and the state of fetching its data.
// It deliberately has no LoginId field; see [DB.LoginID].
type Link struct {
	ID          string   // random, URL-safe, unguessable
	SessionID   string   // the browser session that created the link
	Institution string   // as reported by Flinks Connect
	Tag         string   // as passed through Flinks Connect
	AccountIDs  []string // accounts chosen in Connect's account selector; nil when there was none

	State      State
	RequestID  string    // Flinks RequestId of the current fetch (not secret: it expires)
	Polls      int       // 202 answers seen in the current fetch
	NextPollAt time.Time // zero when not waiting
	// PendingSince is when Flinks first answered 202 in the current fetch
	// (zero before): the time limit counts from it, across restarts.
	PendingSince time.Time

	ErrorCode    string // FlinksCode or our own code ("TIMED_OUT", "NETWORK"); set in failed and timed_out, and in retrying (the failure being retried)
	ErrorMessage string

	Fetch          int       // fetch generation: 1 for the first fetch, +1 for each StartNewFetch
	Live           bool      // the current fetch refreshes from the bank (StartRefreshFromBank), not from Flinks' cache
	FetchStartedAt time.Time // when the current fetch generation started
	CreatedAt      time.Time
	UpdatedAt      time.Time // when the link last changed: a state change, a new fetch
	// TimeLimit is the link's own fetch time limit (a QA choice); 0: the server's.
	TimeLimit time.Duration
	// Version grows by one with every change a page shows: a state, a call
	// to Flinks, an outcome, a new fetch (see DB.Watch).
	Version int64
	// LastEvent and LastCall are the IDs of the link's newest event and call
	// (0: none), so a live timeline knows without a query whether it misses any.
	LastEvent, LastCall int64
}

// NewLink is what CreateLink needs to record a link.
type NewLink struct {
	SessionID   string
	LoginID     string // the Flinks LoginId: a secret, stored encrypted
	Institution string
	Tag         string
	AccountIDs  []string
	// TimeLimit, when positive, replaces the server's fetch time limit for
	// this link (the sandbox's QA control); whole milliseconds.
	TimeLimit time.Duration
}

// linkColumns are the columns scanned by scanLink, in order. The LoginId columns are not among them.
const linkColumns = `id, session_id, institution, tag, account_ids, state, request_id, polls, next_poll_at,
	error_code, error_message, "fetch", fetch_started_at, created_at, updated_at, live, pending_since, time_limit_ms, version,
	last_event, last_call`

// terminalStates is the SQL list of terminal states, for WHERE clauses.
const terminalStates = `('ready', 'failed', 'timed_out')`

// queryer is satisfied by *sql.DB and *sql.Tx, so lookups can run inside or outside a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// CreateLink records a new link for l.SessionID, in state received, fetch 1, with a first event.
//
// If the session already has a link for the same LoginId (a reloaded redirect; the postMessage and
// the URL redirect arriving together), CreateLink returns that link, unchanged, and created=false:
// there is never more than one link per session and LoginId.
// SessionID and LoginID must not be empty.
func (db *DB) CreateLink(ctx context.Context, l NewLink) (link Link, created bool, err error) {
	link, created, err = db.createLink(ctx, l)
	return link, created, db.noteWrite(err)
}

func (db *DB) createLink(ctx context.Context, l NewLink) (link Link, created bool, err error) {
	if l.SessionID == "" {
		return Link{}, false, errors.New("store: create link: empty session ID")
	}
	if l.LoginID == "" {
		return Link{}, false, errors.New("store: create link: empty LoginId")
	}
	accountIDs := l.AccountIDs
	if accountIDs == nil {
		accountIDs = []string{}
	}
	accountJSON, err := json.Marshal(accountIDs)
	if err != nil {
		return Link{}, false, fmt.Errorf("store: create link: %w", err)
	}
	id := newID()
	loginKey := db.loginKey(l.LoginID)
	now := millis(db.timestamp())

	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return Link{}, false, fmt.Errorf("store: create link: %w", err)
	}
	defer tx.Rollback()

	// ON CONFLICT DO NOTHING and then SELECT: the unique index decides, whichever request gets there
	// first; the transaction (BEGIN IMMEDIATE) makes the SELECT see the row that won.
	res, err := tx.ExecContext(ctx, `
		INSERT INTO links (id, session_id, login_key, login_enc, institution, tag, account_ids, state,
			request_id, polls, next_poll_at, error_code, error_message, "fetch", fetch_started_at, created_at, updated_at,
			time_limit_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', 0, NULL, '', '', 1, ?, ?, ?, ?)
		ON CONFLICT (session_id, login_key) DO NOTHING`,
		id, l.SessionID, loginKey, db.encryptLoginID(id, l.LoginID), l.Institution, l.Tag, string(accountJSON),
		StateReceived, now, now, now, timeLimitMillis(l.TimeLimit))
	if err != nil {
		return Link{}, false, fmt.Errorf("store: create link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Link{}, false, fmt.Errorf("store: create link: %w", err)
	}
	created = n == 1
	if created {
		eventID, err := insertEvent(ctx, tx, Event{
			LinkID: id, Fetch: 1, At: fromMillis(now), State: StateReceived,
			Note: NoteOf(NoteReceived),
		})
		if err != nil {
			return Link{}, false, fmt.Errorf("store: create link: %w", err)
		}
		link, err = touch(ctx, tx, id, eventID, 0, false)
		if err != nil {
			return Link{}, false, fmt.Errorf("store: create link: %w", err)
		}
	} else {
		link, err = scanLink(tx.QueryRowContext(ctx,
			`SELECT `+linkColumns+` FROM links WHERE session_id = ? AND login_key = ?`, l.SessionID, loginKey))
		if err != nil {
			return Link{}, false, fmt.Errorf("store: create link: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Link{}, false, fmt.Errorf("store: create link: %w", err)
	}
	db.links.update(link.ID, link)
	return link, created, nil
}

// Link returns the link with the given ID, or ErrNotFound.
//
// It does not check who owns the link: use LinkForSession for anything a browser asked for.
func (db *DB) Link(ctx context.Context, linkID string) (Link, error) {
	if l, ok, gone := db.links.get(linkID); gone {
		return Link{}, ErrNotFound
	} else if ok {
		return l, nil
	}
	mark := db.links.mark()
	link, err := scanLink(db.linkStmt.QueryRowContext(ctx, linkID))
	if err == nil {
		db.links.fill(link.ID, link, mark)
	}
	if errors.Is(err, ErrNotFound) {
		return Link{}, err
	} else if err != nil {
		return Link{}, fmt.Errorf("store: link: %w", err)
	}
	return link, nil
}

// LinkForSession returns the link with the given ID if it belongs to sessionID. It returns ErrNotFound
// both when the link does not exist and when it belongs to another session: a caller cannot tell
// the two apart, on purpose.
func (db *DB) LinkForSession(ctx context.Context, sessionID, linkID string) (Link, error) {
	link, err := db.Link(ctx, linkID)
	if errors.Is(err, ErrNotFound) || err == nil && link.SessionID != sessionID {
		return Link{}, ErrNotFound
	} else if err != nil {
		return Link{}, fmt.Errorf("store: link for session: %w", err)
	}
	return link, nil
}

// LinksForSession returns the links of a session, newest first; none is not an error.
func (db *DB) LinksForSession(ctx context.Context, sessionID string) ([]Link, error) {
	links, err := queryLinks(ctx, db.ro,
		`WHERE session_id = ? ORDER BY created_at DESC, rowid DESC`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: links for session: %w", err)
	}
	return links, nil
}

// LinksByLoginID returns every link, of any session, for the LoginId loginID, newest first; none is not
// an error. It is how a second redirect for the same LoginId finds a fetch already running.
func (db *DB) LinksByLoginID(ctx context.Context, loginID string) ([]Link, error) {
	links, err := queryLinks(ctx, db.ro,
		`WHERE login_key = ? ORDER BY created_at DESC, rowid DESC`, db.loginKey(loginID))
	if err != nil {
		return nil, fmt.Errorf("store: links by LoginId: %w", err)
	}
	return links, nil
}

// LinksByRequestID returns the links whose current fetch uses the Flinks RequestId requestID
// (a webhook that names no LoginId is matched by it), newest first.
func (db *DB) LinksByRequestID(ctx context.Context, requestID string) ([]Link, error) {
	if requestID == "" {
		return nil, nil
	}
	links, err := queryLinks(ctx, db.ro, `WHERE request_id = ? ORDER BY created_at DESC, rowid DESC`, requestID)
	if err != nil {
		return nil, fmt.Errorf("store: links by RequestId: %w", err)
	}
	return links, nil
}

// LinksByTag returns the links created from a Connect session with this tag, newest first.
func (db *DB) LinksByTag(ctx context.Context, tag string) ([]Link, error) {
	if tag == "" {
		return nil, nil
	}
	links, err := queryLinks(ctx, db.ro, `WHERE tag = ? ORDER BY created_at DESC, rowid DESC`, tag)
	if err != nil {
		return nil, fmt.Errorf("store: links by tag: %w", err)
	}
	return links, nil
}

// Unfinished returns the links whose fetch has not reached a terminal state, oldest first: after a
// restart, their fetches must be resumed.
func (db *DB) Unfinished(ctx context.Context) ([]Link, error) {
	links, err := queryLinks(ctx, db.ro,
		`WHERE state NOT IN `+terminalStates+` ORDER BY created_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished: %w", err)
	}
	return links, nil
}

// LoginID returns the decrypted Flinks LoginId of a link, or ErrNotFound.
// It returns an error (never a wrong LoginId) if the row was written with another key or was altered.
func (db *DB) LoginID(ctx context.Context, linkID string) (string, error) {
	var enc []byte
	err := db.ro.QueryRowContext(ctx, `SELECT login_enc FROM links WHERE id = ?`, linkID).Scan(&enc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	} else if err != nil {
		return "", fmt.Errorf("store: login id: %w", err)
	}
	loginID, err := db.decryptLoginID(linkID, enc)
	if err != nil {
		return "", fmt.Errorf("store: login id: %w", err)
	}
	return loginID, nil
}

// StateUpdate is the new state of a link, for RecordState.
type StateUpdate struct {
	State      State
	RequestID  string
	Polls      int
	NextPollAt time.Time // zero when not waiting

	// ErrorCode and ErrorMessage are kept on the link in failed, timed_out and retrying (what is
	// retried); the event always records them.
	ErrorCode    string
	ErrorMessage string

	// Note is what the timeline entry says.
	Note Note
}

// RecordState sets the current state of a link and appends an event to its timeline, in one
// transaction, and sets UpdatedAt: the link changed.
//
// It applies only to the current fetch generation while it is running: it returns ErrStale if the link's
// Fetch is not fetch (a newer fetch has started) or the link is already in a terminal state, so a
// stale goroutine cannot overwrite a newer fetch. It returns ErrNotFound if the link does not exist.
// u.State must be a valid state other than ready: a link becomes ready only through CompleteFetch,
// with its snapshot.
func (db *DB) RecordState(ctx context.Context, linkID string, fetch int, u StateUpdate) error {
	return db.notified(linkID, db.noteWrite(db.recordState(ctx, linkID, fetch, u)))
}

func (db *DB) recordState(ctx context.Context, linkID string, fetch int, u StateUpdate) error {
	if !u.State.valid() {
		return fmt.Errorf("store: record state: invalid state %q", u.State)
	}
	if u.State == StateReady {
		return errors.New("store: record state: a link becomes ready through CompleteFetch")
	}
	if u.Polls < 0 {
		return fmt.Errorf("store: record state: negative polls %d", u.Polls)
	}
	now := db.timestamp()
	errorCode, errorMessage := "", ""
	if u.State.failure() || u.State == StateRetrying {
		errorCode, errorMessage = u.ErrorCode, u.ErrorMessage
	}

	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: record state: %w", err)
	}
	defer tx.Rollback()

	res, err := tx.ExecContext(ctx, `
		UPDATE links SET state = ?, request_id = ?, polls = ?, next_poll_at = ?, error_code = ?, error_message = ?,
			updated_at = ?, pending_since = CASE WHEN ? THEN coalesce(pending_since, ?) ELSE pending_since END
		WHERE id = ? AND "fetch" = ? AND state NOT IN `+terminalStates,
		u.State, u.RequestID, u.Polls, nullMillis(u.NextPollAt), errorCode, errorMessage, millis(now),
		u.State == StatePending, millis(now),
		linkID, fetch)
	if err != nil {
		return fmt.Errorf("store: record state: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: record state: %w", err)
	}
	if n == 0 {
		err := staleOrMissing(ctx, tx, linkID)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrStale) {
			return err
		}
		return fmt.Errorf("store: record state: %w", err)
	}
	eventID, err := insertEvent(ctx, tx, Event{
		LinkID: linkID, Fetch: fetch, At: now, State: u.State, RequestID: u.RequestID, Polls: u.Polls,
		Note: u.Note, ErrorCode: u.ErrorCode, ErrorMessage: u.ErrorMessage,
	})
	if err != nil {
		return fmt.Errorf("store: record state: %w", err)
	}
	link, err := touch(ctx, tx, linkID, eventID, 0, true)
	if err != nil {
		return fmt.Errorf("store: record state: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record state: %w", err)
	}
	db.links.update(link.ID, link)
	return nil
}

// touch records on a link, in the transaction of a write, the newest event
// and call it made (0: none), moves its Version when bump (the pages showing
// it are out of date), and returns it as it is now, for the link cache.
func touch(ctx context.Context, tx *sql.Tx, linkID string, eventID, callID int64, bump bool) (Link, error) {
	return scanLink(tx.QueryRowContext(ctx, `
		UPDATE links SET last_event = CASE WHEN ? > last_event THEN ? ELSE last_event END,
			last_call = CASE WHEN ? > last_call THEN ? ELSE last_call END,
			version = version + CASE WHEN ? THEN 1 ELSE 0 END
		WHERE id = ? RETURNING `+linkColumns, eventID, eventID, callID, callID, bump, linkID))
}

// StartNewFetch begins a new fetch generation for a link, after the person clicked "Try again" or
// "Refresh data": Fetch+1, state received, RequestID, Polls, NextPollAt and the error cleared,
// FetchStartedAt now, and an event. It returns the updated link.
//
// It returns ErrBusy if the current fetch has not reached a terminal state, and ErrNotFound if the link
// does not exist. The previous snapshot stays readable until CompleteFetch replaces it.
func (db *DB) StartNewFetch(ctx context.Context, linkID string) (Link, error) {
	l, err := db.startNewFetch(ctx, linkID, false)
	return l, db.notified(linkID, err)
}

// StartRefreshFromBank is StartNewFetch for a fetch that refreshes the data
// from the bank (a live Authorize) instead of reading Flinks' cache.
func (db *DB) StartRefreshFromBank(ctx context.Context, linkID string) (Link, error) {
	l, err := db.startNewFetch(ctx, linkID, true)
	return l, db.notified(linkID, err)
}

func (db *DB) startNewFetch(ctx context.Context, linkID string, live bool) (Link, error) {
	now := db.timestamp()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return Link{}, fmt.Errorf("store: start new fetch: %w", err)
	}
	defer tx.Rollback()

	link, err := linkByID(ctx, tx, linkID)
	if errors.Is(err, ErrNotFound) {
		return Link{}, err
	} else if err != nil {
		return Link{}, fmt.Errorf("store: start new fetch: %w", err)
	}
	if !link.State.Terminal() {
		return Link{}, ErrBusy
	}
	// Guarded by the fetch it read: SQLite's write lock (BEGIN IMMEDIATE) keeps the link as it was
	// read, but on Postgres another writer (another instance's "Try again") may have moved it on.
	link.Fetch++
	link.State = StateReceived
	link.RequestID, link.Polls, link.NextPollAt, link.PendingSince = "", 0, time.Time{}, time.Time{}
	link.ErrorCode, link.ErrorMessage = "", ""
	link.FetchStartedAt, link.UpdatedAt, link.Live = now, now, live
	res, err := tx.ExecContext(ctx, `
		UPDATE links SET "fetch" = ?, state = ?, request_id = '', polls = 0, next_poll_at = NULL,
			error_code = '', error_message = '', fetch_started_at = ?, updated_at = ?, live = ?, pending_since = NULL
		WHERE id = ? AND "fetch" = ? AND state IN `+terminalStates,
		link.Fetch, link.State, millis(now), millis(now), live, linkID, link.Fetch-1)
	if err != nil {
		return Link{}, fmt.Errorf("store: start new fetch: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return Link{}, fmt.Errorf("store: start new fetch: %w", err)
	} else if n == 0 {
		return Link{}, ErrBusy // started meanwhile, elsewhere
	}
	eventID, err := insertEvent(ctx, tx, Event{
		LinkID: linkID, Fetch: link.Fetch, At: now, State: StateReceived,
		Note: startNote(link.Fetch, live),
	})
	if err != nil {
		return Link{}, fmt.Errorf("store: start new fetch: %w", err)
	}
	if link, err = touch(ctx, tx, linkID, eventID, 0, true); err != nil {
		return Link{}, fmt.Errorf("store: start new fetch: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Link{}, fmt.Errorf("store: start new fetch: %w", err)
	}
	db.links.update(link.ID, link)
	return link, nil
}

// DeleteLink removes a link and everything recorded about it: events, calls and snapshot.
// It returns ErrNotFound if the link does not exist.
func (db *DB) DeleteLink(ctx context.Context, linkID string) error {
	// One statement: the foreign keys' ON DELETE CASCADE removes the rest in the same transaction.
	res, err := db.db.ExecContext(ctx, `DELETE FROM links WHERE id = ?`, linkID)
	if err != nil {
		return fmt.Errorf("store: delete link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: delete link: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	db.links.forget(linkID)
	db.snapshots.forget(linkID)
	db.changed(linkID)
	return nil
}

// staleOrMissing explains why a guarded UPDATE of link linkID (WHERE id = ? AND fetch = ? AND not
// terminal) changed nothing: ErrNotFound if the link does not exist, ErrStale otherwise.
func staleOrMissing(ctx context.Context, tx *sql.Tx, linkID string) error {
	var exists bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM links WHERE id = ?)`, linkID).Scan(&exists)
	if err != nil {
		return err
	}
	if !exists {
		return ErrNotFound
	}
	return ErrStale
}

// linkByID returns a link, or ErrNotFound.
func linkByID(ctx context.Context, q queryer, linkID string) (Link, error) {
	return scanLink(q.QueryRowContext(ctx, linkByIDSQL, linkID))
}

// queryLinks returns the links selected by where (a WHERE clause, possibly followed by ORDER BY).
func queryLinks(ctx context.Context, q queryer, where string, args ...any) ([]Link, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+linkColumns+` FROM links `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var links []Link
	for rows.Next() {
		link, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		links = append(links, link)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return links, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanLink scans the linkColumns of a row; sql.ErrNoRows becomes ErrNotFound.
func scanLink(s scanner) (Link, error) {
	var (
		l                                    Link
		accountIDs                           string
		nextPollAt, pendingSince, timeLimit  sql.NullInt64
		fetchStartedAt, createdAt, updatedAt int64
	)
	err := s.Scan(&l.ID, &l.SessionID, &l.Institution, &l.Tag, &accountIDs, &l.State, &l.RequestID,
		&l.Polls, &nextPollAt, &l.ErrorCode, &l.ErrorMessage, &l.Fetch, &fetchStartedAt, &createdAt, &updatedAt, &l.Live,
		&pendingSince, &timeLimit, &l.Version, &l.LastEvent, &l.LastCall)
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, ErrNotFound
	} else if err != nil {
		return Link{}, err
	}
	if err := json.Unmarshal([]byte(accountIDs), &l.AccountIDs); err != nil {
		return Link{}, fmt.Errorf("link %s: account IDs: %w", l.ID, err)
	}
	if len(l.AccountIDs) == 0 {
		l.AccountIDs = nil
	}
	l.NextPollAt = fromNullMillis(nextPollAt)
	l.PendingSince = fromNullMillis(pendingSince)
	l.TimeLimit = time.Duration(timeLimit.Int64) * time.Millisecond
	l.FetchStartedAt = fromMillis(fetchStartedAt)
	l.CreatedAt = fromMillis(createdAt)
	l.UpdatedAt = fromMillis(updatedAt)
	return l, nil
}

// MoveSessionLinks gives every link of the session from to the session to:
// a browser's session id changes (when it links an account, against a
// planted cookie) and its links follow; or they go to an id no cookie holds,
// which revokes the old cookie ("Start over"). A link whose card the target
// session already has stays where it is. It returns how many moved.
func (db *DB) MoveSessionLinks(ctx context.Context, from, to string) (int, error) {
	if from == "" || to == "" {
		return 0, errors.New("store: move session links: empty session ID")
	}
	rows, err := db.db.QueryContext(ctx, `UPDATE links SET session_id = ?, version = version + 1
		WHERE session_id = ? AND NOT EXISTS (SELECT 1 FROM links o WHERE o.session_id = ? AND o.login_key = links.login_key)
		RETURNING `+linkColumns, to, from, to)
	if err != nil {
		return 0, db.noteWrite(fmt.Errorf("store: move session links: %w", err))
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return n, fmt.Errorf("store: move session links: %w", err)
		}
		db.links.update(l.ID, l)
		db.changed(l.ID) // the old session's pages no longer show it
		n++
	}
	if err := rows.Err(); err != nil {
		return n, db.noteWrite(fmt.Errorf("store: move session links: %w", err))
	}
	return n, db.noteWrite(nil)
}

// timeLimitMillis is a TimeLimit for its column: NULL unless positive.
func timeLimitMillis(d time.Duration) sql.NullInt64 {
	if ms := d.Milliseconds(); ms > 0 {
		return sql.NullInt64{Int64: ms, Valid: true}
	}
	return sql.NullInt64{}
}

// startNote is the timeline's first entry of a new fetch.
func startNote(fetch int, live bool) Note {
	if live {
		return NoteOf(NoteRefreshStarted, fetch)
	}
	return NoteOf(NoteFetchStarted, fetch)
}
