-- A lease is alive while its holder (an instance) is: each instance renews one row of its own, its
-- heartbeat, instead of every card it holds (10,000 pending cards were 2,000 row updates a second).
-- Leases of the old form are dropped: stop every instance before starting this version.

-- +goose Up
CREATE TABLE fetch_holders (
    holder     TEXT    PRIMARY KEY NOT NULL CHECK (holder <> ''),
    expires_at BIGINT  NOT NULL
);
DELETE FROM fetch_leases;
ALTER TABLE fetch_leases DROP COLUMN expires_at;

-- +goose Down
DELETE FROM fetch_leases;
ALTER TABLE fetch_leases ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
DROP TABLE fetch_holders;
