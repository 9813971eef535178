-- When Flinks first answered 202 in a link's current fetch. The time limit
-- (FLINKS_POLL_TIMEOUT) counts from it, so a fetch resumed after a restart
-- keeps the limit it had instead of starting it again.

-- +goose Up
ALTER TABLE links ADD COLUMN pending_since INTEGER;

-- +goose Down
ALTER TABLE links DROP COLUMN pending_since;
