-- A link's version: +1 on every change a page shows (a state, a call, an
-- outcome, a new fetch). A browser's status request names the version it
-- shows, and the server answers when the stored one differs (long polling).
-- last_event and last_call are the newest timeline entries, so an answer
-- knows without a query whether the page's timeline is complete.

-- +goose Up
ALTER TABLE links ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE links ADD COLUMN last_event INTEGER NOT NULL DEFAULT 0;
ALTER TABLE links ADD COLUMN last_call INTEGER NOT NULL DEFAULT 0;
UPDATE links SET
    last_event = (SELECT coalesce(max(id), 0) FROM events WHERE events.link_id = links.id),
    last_call = (SELECT coalesce(max(id), 0) FROM calls WHERE calls.link_id = links.id);

-- +goose Down
ALTER TABLE links DROP COLUMN last_call;
ALTER TABLE links DROP COLUMN last_event;
ALTER TABLE links DROP COLUMN version;
