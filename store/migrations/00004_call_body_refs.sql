-- A call whose answer is byte for byte the one before it (Flinks' 202s, poll after poll) keeps no copy:
-- body_of names the call that holds the body. NULL: the body is its own.

-- +goose Up
ALTER TABLE calls ADD COLUMN body_of INTEGER;

-- +goose Down
ALTER TABLE calls DROP COLUMN body_of;
