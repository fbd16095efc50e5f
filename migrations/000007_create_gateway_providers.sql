-- +migrate Up
CREATE TABLE IF NOT EXISTS gateway_providers (
    id                VARCHAR(26) PRIMARY KEY,
    project_id        VARCHAR(26)  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name              VARCHAR(255) NOT NULL,
    provider_type     VARCHAR(50)  NOT NULL
        CONSTRAINT gateway_providers_type_check CHECK (provider_type IN ('openai', 'anthropic', 'google', 'azure_openai', 'bedrock', 'cohere', 'mistral', 'custom')),
    base_url          TEXT,
    api_key_encrypted TEXT,
    config            JSONB        NOT NULL DEFAULT '{}',
    status            VARCHAR(20)  NOT NULL DEFAULT 'active'
        CONSTRAINT gateway_providers_status_check CHECK (status IN ('active', 'disabled')),
    created_at        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT gateway_providers_project_name_key UNIQUE (project_id, name)
);
CREATE INDEX IF NOT EXISTS gateway_providers_project_id_idx ON gateway_providers (project_id);
CREATE INDEX IF NOT EXISTS gateway_providers_status_idx ON gateway_providers (status);

-- +migrate Down
DROP TABLE IF EXISTS gateway_providers;
