-- +migrate Up
CREATE TABLE IF NOT EXISTS organizations (
    id            VARCHAR(26) PRIMARY KEY,
    name          VARCHAR(255) NOT NULL,
    slug          VARCHAR(255) NOT NULL,
    plan          VARCHAR(50)  NOT NULL DEFAULT 'free',
    billing_email VARCHAR(255),
    status        VARCHAR(20)  NOT NULL DEFAULT 'active'
        CONSTRAINT organizations_status_check CHECK (status IN ('active', 'suspended', 'deleted')),
    created_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
    deleted_at    TIMESTAMPTZ,
    CONSTRAINT organizations_slug_key UNIQUE (slug)
);
CREATE INDEX IF NOT EXISTS organizations_status_idx ON organizations (status);
CREATE INDEX IF NOT EXISTS organizations_plan_idx ON organizations (plan);

-- +migrate Down
DROP TABLE IF EXISTS organizations;
