-- +goose Up
-- Ordering marks for Stripe webhooks: the `created` time (unix seconds) of
-- the event whose subscription state is stored, and the lifecycle rank of
-- its status, so that an event delivered late cannot undo a newer one.
ALTER TABLE users ADD COLUMN stripe_state_at BIGINT;
ALTER TABLE users ADD COLUMN stripe_state_rank INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN stripe_state_rank;
ALTER TABLE users DROP COLUMN stripe_state_at;
