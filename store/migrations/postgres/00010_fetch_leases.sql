-- Which instance runs the Flinks fetch of a card (a LoginId, by its fingerprint) until when: at
-- most one at a time, and another takes it over once the lease runs out (its holder died).

-- +goose Up
CREATE TABLE fetch_leases (
    card       BYTEA   PRIMARY KEY NOT NULL CHECK (octet_length(card) = 32),
    holder     TEXT    NOT NULL CHECK (holder <> ''),
    expires_at BIGINT  NOT NULL
);
CREATE INDEX fetch_leases_holder ON fetch_leases (holder);

-- +goose Down
DROP TABLE fetch_leases;
