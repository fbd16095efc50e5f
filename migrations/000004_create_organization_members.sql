-- +migrate Up
CREATE TABLE IF NOT EXISTS organization_members (
    id              VARCHAR(26) PRIMARY KEY,
    organization_id VARCHAR(26) NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         VARCHAR(26) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            VARCHAR(20) NOT NULL DEFAULT 'developer'
        CONSTRAINT organization_members_role_check CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    status          VARCHAR(20) NOT NULL DEFAULT 'active'
        CONSTRAINT organization_members_status_check CHECK (status IN ('active', 'invited', 'suspended')),
    joined_at       TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT organization_members_org_user_key UNIQUE (organization_id, user_id)
);
CREATE INDEX IF NOT EXISTS organization_members_organization_id_idx ON organization_members (organization_id);
CREATE INDEX IF NOT EXISTS organization_members_user_id_idx ON organization_members (user_id);
CREATE INDEX IF NOT EXISTS organization_members_status_idx ON organization_members (status);

-- +migrate Down
DROP TABLE IF EXISTS organization_members;
