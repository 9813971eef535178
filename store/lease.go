package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"
)

// Fetch leases: which instance runs the Flinks fetch of a card, until when.
// A card is a LoginId, by its fingerprint, so two instances (or two links of
// the same card) never run two call sequences for one LoginId. The holder
// renews its leases while it fetches and gives them back when it is done or
// stops; when it dies they run out, and another instance takes the card's
// unfinished links over (Orphaned). On SQLite there is one instance, and the
// same leases hold across its restarts.

// Card names a LoginId's lease (hex of its fingerprint); it holds nothing
// secret.
type Card string

// CardOf is the lease name of loginID.
func (db *DB) CardOf(loginID string) Card { return Card(hex.EncodeToString(db.loginKey(loginID))) }

func (c Card) bytes() ([]byte, error) {
	b, err := hex.DecodeString(string(c))
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("store: card %q: not a card", c)
	}
	return b, nil
}

// ClaimCard gives holder the lease of card until until, if no one else
// holds it now (or their lease ran out). It reports whether holder has it.
func (db *DB) ClaimCard(ctx context.Context, card Card, holder string, until time.Time) (bool, error) {
	b, err := card.bytes()
	if err != nil {
		return false, err
	}
	res, err := db.db.ExecContext(ctx, `
		INSERT INTO fetch_leases (card, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (card) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE fetch_leases.holder = excluded.holder OR fetch_leases.expires_at < ?`,
		b, holder, millis(until), millis(db.now()))
	if err != nil {
		return false, db.noteWrite(fmt.Errorf("store: claim card: %w", err))
	}
	db.noteWrite(nil)
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim card: %w", err)
	}
	return n == 1, nil
}

// RenewCards moves every lease holder still has to until, and returns the
// cards it renewed: a card missing from them was taken over (holder let its
// lease run out, and another claimed it) and must not be fetched by holder
// any more. A lease that ran out but that nobody claimed is still holder's.
func (db *DB) RenewCards(ctx context.Context, holder string, until time.Time) (map[Card]bool, error) {
	rows, err := db.db.QueryContext(ctx, `
		UPDATE fetch_leases SET expires_at = ? WHERE holder = ? RETURNING card`,
		millis(until), holder)
	if err != nil {
		return nil, db.noteWrite(fmt.Errorf("store: renew cards: %w", err))
	}
	defer rows.Close()
	held := map[Card]bool{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("store: renew cards: %w", err)
		}
		held[Card(hex.EncodeToString(b))] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: renew cards: %w", err)
	}
	return held, nil
}

// ReleaseCard gives back holder's lease of card: its fetch ended.
func (db *DB) ReleaseCard(ctx context.Context, card Card, holder string) error {
	b, err := card.bytes()
	if err != nil {
		return err
	}
	if _, err := db.db.ExecContext(ctx, `DELETE FROM fetch_leases WHERE card = ? AND holder = ?`, b, holder); err != nil {
		return db.noteWrite(fmt.Errorf("store: release card: %w", err))
	}
	return nil
}

// ReleaseCards gives back every lease of holder (a graceful stop), or, with
// holder empty, every lease (the one SQLite instance starting: whoever held
// them before was this app, and is gone).
func (db *DB) ReleaseCards(ctx context.Context, holder string) error {
	q, args := `DELETE FROM fetch_leases WHERE holder = ?`, []any{holder}
	if holder == "" {
		q, args = `DELETE FROM fetch_leases`, nil
	}
	if _, err := db.db.ExecContext(ctx, q, args...); err != nil {
		return db.noteWrite(fmt.Errorf("store: release cards: %w", err))
	}
	return nil
}

// Orphaned returns the unfinished links whose card no instance holds now:
// nobody fetches them (their holder died or stopped), oldest first.
func (db *DB) Orphaned(ctx context.Context) ([]Link, error) {
	links, err := queryLinks(ctx, db.ro, `WHERE state NOT IN `+terminalStates+`
		AND NOT EXISTS (SELECT 1 FROM fetch_leases f WHERE f.card = links.login_key AND f.expires_at >= ?)
		ORDER BY created_at, rowid`, millis(db.now()))
	if err != nil {
		return nil, fmt.Errorf("store: orphaned: %w", err)
	}
	return links, nil
}

// Shared reports whether other instances may use the database (Postgres).
func (db *DB) Shared() bool { return db.postgres }
