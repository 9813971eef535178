-- A link's version: +1 on every change a page shows (a state, a call, an
-- outcome, a new fetch). A browser's status request names the version it
-- shows, and the server answers when the stored one differs (long polling).

-- +goose Up
ALTER TABLE links ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE links DROP COLUMN version;
