-- What a summary must say about its own data: why it may be old (the FlinksCode of a cached
-- Authorize that replayed a failed refresh, such as QUESTION_NOT_FOUND; '' when fresh) and how many
-- transactions Flinks sent that could not be read (left out, the rest kept).

-- +goose Up
ALTER TABLE snapshots ADD COLUMN stale_code TEXT NOT NULL DEFAULT '' CHECK (length(stale_code) <= 64);
ALTER TABLE snapshots ADD COLUMN unreadable_transactions INTEGER NOT NULL DEFAULT 0 CHECK (unreadable_transactions >= 0);

-- +goose Down
ALTER TABLE snapshots DROP COLUMN unreadable_transactions;
ALTER TABLE snapshots DROP COLUMN stale_code;
