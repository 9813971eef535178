-- Initial schema. Times are unix milliseconds (INTEGER, UTC) so they sort and compare numerically;
-- money is integer cents; NULL means "not provided" (never zero). STRICT tables make SQLite reject
-- a value of the wrong type instead of silently storing it.

-- +goose Up

-- meta holds facts about the database itself, such as the key check value that lets Open refuse a key
-- that does not belong to this database.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT;

-- links: one row per (browser session, Flinks LoginId). The LoginId is a permanent credential, so it is
-- only stored encrypted (login_enc) plus a keyed fingerprint (login_key) used for lookups and dedupe.
CREATE TABLE links (
    id               TEXT    PRIMARY KEY NOT NULL,
    session_id       TEXT    NOT NULL CHECK (session_id <> ''),
    login_key        BLOB    NOT NULL CHECK (length(login_key) = 32),
    login_enc        BLOB    NOT NULL,
    institution      TEXT    NOT NULL,
    tag              TEXT    NOT NULL,
    account_ids      TEXT    NOT NULL CHECK (json_valid(account_ids) AND json_type(account_ids) = 'array'),
    state            TEXT    NOT NULL CHECK (state IN ('received', 'authorizing', 'fetching', 'pending', 'retrying', 'ready', 'failed', 'timed_out')),
    request_id       TEXT    NOT NULL,
    polls            INTEGER NOT NULL CHECK (polls >= 0),
    next_poll_at     INTEGER,
    error_code       TEXT    NOT NULL,
    error_message    TEXT    NOT NULL,
    fetch            INTEGER NOT NULL CHECK (fetch >= 1),
    fetch_started_at INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

-- A reloaded redirect (or postMessage + URL redirect arriving together) must not create a second link.
CREATE UNIQUE INDEX links_session_login ON links (session_id, login_key);
-- Both list newest first (ORDER BY created_at DESC, rowid DESC). The index is ascending on purpose:
-- SQLite scans it backwards, and the rowid it ends with (always ascending) then needs no extra sort.
CREATE INDEX links_session_created ON links (session_id, created_at);
CREATE INDEX links_login_key ON links (login_key, created_at);
-- Restart recovery only looks at unfinished links; the WHERE must match the query in Unfinished exactly.
CREATE INDEX links_unfinished ON links (created_at) WHERE state NOT IN ('ready', 'failed', 'timed_out');

-- events: the timeline of a link, one row per state change.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    link_id       TEXT    NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    fetch         INTEGER NOT NULL CHECK (fetch >= 1),
    at            INTEGER NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('received', 'authorizing', 'fetching', 'pending', 'retrying', 'ready', 'failed', 'timed_out')),
    request_id    TEXT    NOT NULL,
    polls         INTEGER NOT NULL CHECK (polls >= 0),
    note          TEXT    NOT NULL,
    error_code    TEXT    NOT NULL,
    error_message TEXT    NOT NULL
) STRICT;
CREATE INDEX events_link ON events (link_id, id);

-- calls: every HTTP call made to Flinks for a link. body is already masked by the caller.
CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    link_id     TEXT    NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    fetch       INTEGER NOT NULL CHECK (fetch >= 1),
    at          INTEGER NOT NULL,
    endpoint    TEXT    NOT NULL,
    method      TEXT    NOT NULL,
    status_code INTEGER NOT NULL,
    flinks_code TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,
    err         TEXT    NOT NULL,
    body        BLOB    NOT NULL CHECK (length(body) <= 262144)
) STRICT;
CREATE INDEX calls_link ON calls (link_id, id);

-- snapshots: the latest account data of a link (at most one per link; replaced by each completed fetch).
CREATE TABLE snapshots (
    link_id          TEXT    PRIMARY KEY NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    fetch            INTEGER NOT NULL CHECK (fetch >= 1),
    fetched_at       INTEGER NOT NULL,
    institution      TEXT    NOT NULL,
    institution_name TEXT    NOT NULL,
    last_refresh     INTEGER,
    holder_name      TEXT    NOT NULL
) STRICT;

-- accounts of a snapshot, in the order Flinks returned them (position 0..n-1).
-- last4 keeps only the last four digits of the account number: we never need the full number.
CREATE TABLE accounts (
    link_id         TEXT    NOT NULL REFERENCES snapshots (link_id) ON DELETE CASCADE,
    position        INTEGER NOT NULL CHECK (position >= 0),
    id              TEXT    NOT NULL CHECK (id <> ''),
    title           TEXT    NOT NULL,
    last4           TEXT    NOT NULL CHECK (length(last4) <= 4 AND last4 NOT GLOB '*[^0-9]*'),
    type            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    account_type    TEXT    NOT NULL,
    current         INTEGER,
    available       INTEGER,
    credit_limit    INTEGER,
    overdraft_limit INTEGER,
    holder_name     TEXT    NOT NULL,
    PRIMARY KEY (link_id, position),
    UNIQUE (link_id, id)
) STRICT, WITHOUT ROWID;

-- transactions of an account, newest first as Flinks returned them (position 0 = newest).
CREATE TABLE transactions (
    link_id     TEXT    NOT NULL,
    account_pos INTEGER NOT NULL,
    position    INTEGER NOT NULL CHECK (position >= 0),
    id          TEXT    NOT NULL,
    date        TEXT    NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    description TEXT    NOT NULL,
    debit       INTEGER,
    credit      INTEGER,
    balance     INTEGER,
    PRIMARY KEY (link_id, account_pos, position),
    FOREIGN KEY (link_id, account_pos) REFERENCES accounts (link_id, position) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
-- Flinks transaction ids are unique within an account; a repeat means the data is wrong, so the whole
-- snapshot is refused. An empty id is tolerated (it identifies nothing).
CREATE UNIQUE INDEX transactions_account_id ON transactions (link_id, account_pos, id) WHERE id <> '';

-- +goose Down
DROP TABLE transactions;
DROP TABLE accounts;
DROP TABLE snapshots;
DROP TABLE calls;
DROP TABLE events;
DROP TABLE links;
DROP TABLE meta;
