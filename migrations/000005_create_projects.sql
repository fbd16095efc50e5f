-- +migrate Up
CREATE TABLE IF NOT EXISTS projects (
    id              VARCHAR(26) PRIMARY KEY,
    organization_id VARCHAR(26)  NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            VARCHAR(255) NOT NULL,
    slug            VARCHAR(255) NOT NULL,
    description     TEXT         NOT NULL DEFAULT '',
    environment     VARCHAR(20)  NOT NULL DEFAULT 'development'
        CONSTRAINT projects_environment_check CHECK (environment IN ('development', 'staging', 'production')),
    status          VARCHAR(20)  NOT NULL DEFAULT 'active'
        CONSTRAINT projects_status_check CHECK (status IN ('active', 'archived')),
    settings        JSONB        NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    deleted_at      TIMESTAMPTZ,
    CONSTRAINT projects_org_slug_key UNIQUE (organization_id, slug)
);
CREATE INDEX IF NOT EXISTS projects_organization_id_idx ON projects (organization_id);
CREATE INDEX IF NOT EXISTS projects_status_idx ON projects (status);

-- +migrate Down
DROP TABLE IF EXISTS projects;
