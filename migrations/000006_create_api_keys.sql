-- +migrate Up
CREATE TABLE IF NOT EXISTS api_keys (
    id           VARCHAR(26) PRIMARY KEY,
    project_id   VARCHAR(26)  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_by   VARCHAR(26)  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         VARCHAR(255) NOT NULL,
    key_prefix   VARCHAR(16)  NOT NULL,
    key_hash     VARCHAR(128) NOT NULL,
    scopes       TEXT[]       NOT NULL DEFAULT '{}',
    status       VARCHAR(20)  NOT NULL DEFAULT 'active'
        CONSTRAINT api_keys_status_check CHECK (status IN ('active', 'revoked', 'expired')),
    last_used_at TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
);
CREATE INDEX IF NOT EXISTS api_keys_project_id_idx ON api_keys (project_id);
CREATE INDEX IF NOT EXISTS api_keys_created_by_idx ON api_keys (created_by);
CREATE INDEX IF NOT EXISTS api_keys_status_idx ON api_keys (status);
CREATE INDEX IF NOT EXISTS api_keys_key_prefix_idx ON api_keys (key_prefix);

-- +migrate Down
DROP TABLE IF EXISTS api_keys;
