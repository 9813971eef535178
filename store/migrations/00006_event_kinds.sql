-- Timeline entries are stored as a kind plus arguments (store.Note), so that
-- each page renders them in its own language and the API gives them as data.
-- The note column keeps the English sentences of entries written before.

-- +goose Up
ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN args TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE events DROP COLUMN args;
ALTER TABLE events DROP COLUMN kind;
