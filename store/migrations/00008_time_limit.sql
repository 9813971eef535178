-- A time limit of the link's own, in milliseconds, instead of the server's
-- (FLINKS_POLL_TIMEOUT): set by the sandbox's QA control, so that a tester
-- sees TIMED_OUT in seconds. NULL: the server's limit.

-- +goose Up
ALTER TABLE links ADD COLUMN time_limit_ms INTEGER CHECK (time_limit_ms IS NULL OR time_limit_ms > 0);

-- +goose Down
ALTER TABLE links DROP COLUMN time_limit_ms;
