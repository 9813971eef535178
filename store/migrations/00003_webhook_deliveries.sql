-- Webhooks already acted on, by the SHA-256 of their raw body: a replayed push is refused. Kept a
-- week (Flinks retries a delivery for about 5 hours).

-- +goose Up
CREATE TABLE webhook_deliveries (
    digest      BLOB    PRIMARY KEY NOT NULL CHECK (length(digest) = 32),
    received_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);

-- +goose Down
DROP TABLE webhook_deliveries;
