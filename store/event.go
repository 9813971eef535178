package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Event is one entry of a link's timeline: a state the link moved to, and why.
type Event struct {
	ID           int64
	LinkID       string
	Fetch        int // fetch generation the event belongs to
	At           time.Time
	State        State
	RequestID    string
	Polls        int
	Note         Note   // what the entry says
	Text         string // the English sentence of an entry written before notes had kinds
	ErrorCode    string
	ErrorMessage string
}

// Events returns the timeline of a link, oldest first; an unknown link has none (not an error).
func (db *DB) Events(ctx context.Context, linkID string) ([]Event, error) {
	rows, err := db.eventsStmt.QueryContext(ctx, linkID)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var events []Event
	for rows.Next() {
		var (
			e          Event
			at         int64
			kind, args string
		)
		err := rows.Scan(&e.ID, &e.LinkID, &e.Fetch, &at, &e.State, &e.RequestID, &e.Polls, &e.Text, &kind, &args,
			&e.ErrorCode, &e.ErrorMessage)
		if err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		e.At = fromMillis(at)
		e.Note = Note{Kind: NoteKind(kind), Args: parseArgs(args)}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return events, nil
}

// insertEvent appends e (its ID ignored) to the timeline of e.LinkID and
// returns its ID.
func insertEvent(ctx context.Context, tx *sql.Tx, e Event) (int64, error) {
	// RETURNING rather than LastInsertId, which Postgres's driver lacks.
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO events (link_id, "fetch", at, state, request_id, polls, note, kind, args, error_code, error_message)
		VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?) RETURNING id`,
		e.LinkID, e.Fetch, millis(e.At), e.State, e.RequestID, e.Polls, e.Note.Kind, e.Note.argsJSON(),
		e.ErrorCode, e.ErrorMessage).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert event: %w", err)
	}
	return id, nil
}

// Call is one HTTP call the app made to Flinks for a link.
type Call struct {
	ID         int64
	LinkID     string
	Fetch      int       // fetch generation the call belongs to
	At         time.Time // when the call started
	Endpoint   string    // e.g. "/Authorize"
	Method     string
	StatusCode int    // 0 when no response arrived
	FlinksCode string // FlinksCode of the response, if any
	RequestID  string
	Attempt    int // 1 for the first try of a request, +1 for each retry
	Duration   time.Duration
	Err        string // transport error, if any

	// Body is the response body, already masked by the caller; it is stored as given, cut to 256 KiB.
	Body []byte
}

// RecordCall appends c to the calls log of a link, as part of fetch generation fetch.
// c.ID, c.LinkID and c.Fetch are ignored; a zero c.At means now. The call is recorded whether or not
// fetch is still current: it happened. It returns ErrNotFound if the link does not exist.
func (db *DB) RecordCall(ctx context.Context, linkID string, fetch int, c Call) error {
	return db.notified(linkID, db.noteWrite(db.recordCall(ctx, linkID, fetch, c)))
}

func (db *DB) recordCall(ctx context.Context, linkID string, fetch int, c Call) error {
	if c.At.IsZero() {
		c.At = db.now()
	}
	body := c.Body
	if len(body) > bodyLimit {
		body = body[:bodyLimit]
	}
	if body == nil {
		body = []byte{} // NOT NULL
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: record call: %w", err)
	}
	defer tx.Rollback()

	// An answer the endpoint already gave this link (poll after poll of
	// 202s) points at the latest copy of it instead of being kept again.
	var bodyOf sql.NullInt64
	if len(body) > 0 {
		var lastID int64
		var last []byte
		err := tx.QueryRowContext(ctx, `SELECT id, body FROM calls
			WHERE link_id = ? AND endpoint = ? AND body_of IS NULL AND length(body) = ? ORDER BY id DESC LIMIT 1`,
			linkID, c.Endpoint, len(body)).Scan(&lastID, &last)
		switch {
		case err == nil && bytes.Equal(last, body):
			bodyOf, body = sql.NullInt64{Int64: lastID, Valid: true}, []byte{}
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: record call: %w", err)
		}
	}
	// Past the link's budget, only the start of an answer is kept.
	if len(body) > linkBodyKeep {
		var kept int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(length(body)), 0) FROM calls WHERE link_id = ?`, linkID).Scan(&kept); err != nil {
			return fmt.Errorf("store: record call: %w", err)
		}
		if kept+int64(len(body)) > linkBodyBudget {
			body = append(bytes.Clone(body[:linkBodyKeep]), BodyNotKept...)
		}
	}
	// INSERT ... SELECT FROM links: one statement that inserts nothing for an unknown link, instead of
	// a foreign key error to decode.
	var callID int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO calls (link_id, "fetch", at, endpoint, method, status_code, flinks_code, request_id, attempt,
			duration_ns, err, body, body_of)
		SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM links WHERE id = ? RETURNING id`,
		fetch, millis(c.At.UTC()), c.Endpoint, c.Method, c.StatusCode, c.FlinksCode, c.RequestID, c.Attempt,
		int64(c.Duration), c.Err, body, bodyOf, linkID).Scan(&callID)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: record call: %w", err)
	}
	link, err := touch(ctx, tx, linkID, 0, callID, true)
	if err != nil {
		return fmt.Errorf("store: record call: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record call: %w", err)
	}
	db.links.update(link.ID, link)
	return nil
}

// A link keeps at most linkBodyBudget bytes of Flinks answers (a hostile or
// runaway upstream cannot fill the disk through one link); past it, each
// answer keeps its first linkBodyKeep bytes followed by BodyNotKept.
const (
	linkBodyBudget = 4 << 20
	linkBodyKeep   = 1 << 10
)

// BodyNotKept ends an answer cut because its link's budget was spent.
const BodyNotKept = "\n… [not kept: this link already stores 4 MiB of Flinks answers]"

// Calls returns the calls log of a link, oldest first; an unknown link has none (not an error).
func (db *DB) Calls(ctx context.Context, linkID string) ([]Call, error) {
	return db.CallsAfter(ctx, linkID, 0)
}

// CallsAfter is Calls limited to the calls whose ID is greater than afterID:
// a live timeline asks only for what it does not show yet, so the response
// bodies it already has are not read again on every poll.
func (db *DB) CallsAfter(ctx context.Context, linkID string, afterID int64) ([]Call, error) {
	rows, err := db.callsAfterStmt.QueryContext(ctx, linkID, afterID)
	if err != nil {
		return nil, fmt.Errorf("store: calls: %w", err)
	}
	defer rows.Close()
	var calls []Call
	for rows.Next() {
		var (
			c       Call
			at, dur int64
		)
		err := rows.Scan(&c.ID, &c.LinkID, &c.Fetch, &at, &c.Endpoint, &c.Method, &c.StatusCode, &c.FlinksCode,
			&c.RequestID, &c.Attempt, &dur, &c.Err, &c.Body)
		if err != nil {
			return nil, fmt.Errorf("store: calls: %w", err)
		}
		c.At = fromMillis(at)
		c.Duration = time.Duration(dur)
		if len(c.Body) == 0 {
			c.Body = nil
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: calls: %w", err)
	}
	return calls, nil
}
