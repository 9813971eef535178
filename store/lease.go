package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"
)

// Fetch leases: which instance runs the Flinks fetch of a card. A card is a
// LoginId, by its fingerprint, so two instances (or two links of the same
// card) never run two call sequences for one LoginId. A lease lives as long
// as its holder's heartbeat (table fetch_holders), which the holder renews
// while it fetches: one row per instance, however many cards it holds. It
// gives its cards back when their fetch ends or it stops; when it dies its
// heartbeat runs out, and another instance takes the cards' unfinished
// links over (Orphaned, ClaimCard). On SQLite there is one instance, and the
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

// ClaimCard gives holder the lease of card, if no one else holds it now (or
// its holder is dead: its heartbeat ran out), and reports whether holder has
// it. The lease lives as long as holder's heartbeat (Beat, RenewCards): one
// statement, which takes no lock but the card's.
func (db *DB) ClaimCard(ctx context.Context, card Card, holder string) (bool, error) {
	b, err := card.bytes()
	if err != nil {
		return false, err
	}
	res, err := db.db.ExecContext(ctx, `
		INSERT INTO fetch_leases (card, holder) VALUES (?, ?)
		ON CONFLICT (card) DO UPDATE SET holder = excluded.holder
		WHERE fetch_leases.holder = excluded.holder OR NOT EXISTS (
			SELECT 1 FROM fetch_holders h WHERE h.holder = fetch_leases.holder AND h.expires_at >= ?)`,
		b, holder, millis(db.now()))
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

// Beat moves holder's heartbeat to until (never back): every lease it
// holds lives until then.
func (db *DB) Beat(ctx context.Context, holder string, until time.Time) error {
	if _, err := db.db.ExecContext(ctx, beatSQL, holder, millis(until)); err != nil {
		return db.noteWrite(fmt.Errorf("store: heartbeat: %w", err))
	}
	return db.noteWrite(nil)
}

const beatSQL = `
	INSERT INTO fetch_holders (holder, expires_at) VALUES (?, ?)
	ON CONFLICT (holder) DO UPDATE SET expires_at = CASE
		WHEN excluded.expires_at > fetch_holders.expires_at THEN excluded.expires_at
		ELSE fetch_holders.expires_at END`

// deadHolderMemory is how long a dead holder's row (and the leases nobody
// took from it) is kept before a renewal clears it away.
const deadHolderMemory = time.Hour

// RenewCards moves holder's heartbeat to until, which keeps every lease it
// holds alive (one row, however many cards), and returns the cards it holds:
// a card missing from them was taken over (holder's heartbeat ran out, and
// another claimed it) and must not be fetched by holder any more. A lease
// whose holder's heartbeat ran out but that nobody claimed is still holder's.
func (db *DB) RenewCards(ctx context.Context, holder string, until time.Time) (map[Card]bool, error) {
	held, err := db.renewCards(ctx, holder, until)
	if err != nil {
		return nil, db.noteWrite(fmt.Errorf("store: renew cards: %w", err))
	}
	return held, db.noteWrite(nil)
}

func (db *DB) renewCards(ctx context.Context, holder string, until time.Time) (map[Card]bool, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, beatSQL, holder, millis(until)); err != nil {
		return nil, err
	}
	gone := millis(db.now().Add(-deadHolderMemory))
	if _, err := tx.ExecContext(ctx, `DELETE FROM fetch_leases WHERE holder IN (
		SELECT holder FROM fetch_holders WHERE expires_at < ?)`, gone); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM fetch_holders WHERE expires_at < ?`, gone); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT card FROM fetch_leases WHERE holder = ?`, holder)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	held := map[Card]bool{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		held[Card(hex.EncodeToString(b))] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return held, tx.Commit()
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

// ReleaseCards gives back every lease of holder, and its heartbeat (a
// graceful stop), or, with holder empty, every lease (the one SQLite
// instance starting: whoever held them before was this app, and is gone).
func (db *DB) ReleaseCards(ctx context.Context, holder string) error {
	err := db.releaseCards(ctx, holder)
	if err != nil {
		return db.noteWrite(fmt.Errorf("store: release cards: %w", err))
	}
	return nil
}

func (db *DB) releaseCards(ctx context.Context, holder string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	where, args := ` WHERE holder = ?`, []any{holder}
	if holder == "" {
		where, args = "", nil
	}
	for _, table := range []string{"fetch_leases", "fetch_holders"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+where, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Orphaned returns the unfinished links whose card no instance holds now:
// nobody fetches them (their holder died or stopped), oldest first.
func (db *DB) Orphaned(ctx context.Context) ([]Link, error) {
	links, err := queryLinks(ctx, db.ro, `WHERE state NOT IN `+terminalStates+`
		AND NOT EXISTS (SELECT 1 FROM fetch_leases f JOIN fetch_holders h ON h.holder = f.holder
			WHERE f.card = links.login_key AND h.expires_at >= ?)
		ORDER BY created_at, rowid`, millis(db.now()))
	if err != nil {
		return nil, fmt.Errorf("store: orphaned: %w", err)
	}
	return links, nil
}

// Shared reports whether other instances may use the database (Postgres).
func (db *DB) Shared() bool { return db.postgres }
