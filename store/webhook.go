package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"
)

// webhookMemory is how long a webhook's digest is kept to refuse its replay.
const webhookMemory = 7 * 24 * time.Hour

// RecordWebhook remembers a webhook by its raw body and reports whether it
// is new: false when the same body was recorded before (a replay). Digests
// older than a week are forgotten on the way.
func (db *DB) RecordWebhook(ctx context.Context, body []byte) (bool, error) {
	fresh, err := db.recordWebhook(ctx, body)
	return fresh, db.noteWrite(err)
}

func (db *DB) recordWebhook(ctx context.Context, body []byte) (bool, error) {
	digest := sha256.Sum256(body)
	now := db.timestamp()
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: record webhook: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE received_at < ?`, millis(now.Add(-webhookMemory))); err != nil {
		return false, fmt.Errorf("store: record webhook: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (digest, received_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		digest[:], millis(now))
	if err != nil {
		return false, fmt.Errorf("store: record webhook: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: record webhook: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: record webhook: %w", err)
	}
	return n == 1, nil
}

// ForgetWebhook undoes RecordWebhook for a body that could not be acted on,
// so that Flinks' next attempt of the same push is not taken for a replay.
func (db *DB) ForgetWebhook(ctx context.Context, body []byte) error {
	digest := sha256.Sum256(body)
	if _, err := db.db.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE digest = ?`, digest[:]); err != nil {
		return db.noteWrite(fmt.Errorf("store: forget webhook: %w", err))
	}
	return db.noteWrite(nil)
}
