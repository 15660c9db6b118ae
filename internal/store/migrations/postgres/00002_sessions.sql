-- +goose Up
-- Sessions of the embedded default (no Redis): kept in SQL so that they
-- survive a restart. With Redis configured, sessions live in Redis only.
CREATE TABLE sessions (
    session_key VARCHAR(64) PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data        TEXT        NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
