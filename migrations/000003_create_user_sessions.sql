-- +migrate Up
CREATE TABLE IF NOT EXISTS user_sessions (
    id                 VARCHAR(26) PRIMARY KEY,
    user_id            VARCHAR(26)  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash         VARCHAR(128) NOT NULL,
    refresh_token_hash VARCHAR(128),
    ip_address         INET,
    user_agent         TEXT,
    status             VARCHAR(20)  NOT NULL DEFAULT 'active'
        CONSTRAINT user_sessions_status_check CHECK (status IN ('active', 'revoked', 'expired')),
    expires_at         TIMESTAMPTZ  NOT NULL,
    last_used_at       TIMESTAMPTZ,
    revoked_at         TIMESTAMPTZ,
    created_at         TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT user_sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX IF NOT EXISTS user_sessions_user_id_idx ON user_sessions (user_id);
CREATE INDEX IF NOT EXISTS user_sessions_status_idx ON user_sessions (status);
CREATE INDEX IF NOT EXISTS user_sessions_expires_at_idx ON user_sessions (expires_at);

-- +migrate Down
DROP TABLE IF EXISTS user_sessions;
