-- Whether a link's current fetch refreshes from the bank (a live Authorize: MostRecentCached false,
-- Save true) rather than reading Flinks' cache. Kept so that a fetch resumed after a restart is the
-- same kind of fetch.

-- +goose Up
ALTER TABLE links ADD COLUMN live INTEGER NOT NULL DEFAULT 0 CHECK (live IN (0, 1));

-- +goose Down
ALTER TABLE links DROP COLUMN live;
