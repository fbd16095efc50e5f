-- +migrate Up
CREATE TABLE IF NOT EXISTS subscriptions (
    id                     VARCHAR(26) PRIMARY KEY,
    organization_id        VARCHAR(26)  NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    plan_id                VARCHAR(26)  NOT NULL REFERENCES billing_plans (id) ON DELETE CASCADE,
    status                 VARCHAR(20)  NOT NULL DEFAULT 'active'
        CONSTRAINT subscriptions_status_check CHECK (status IN ('trialing', 'active', 'past_due', 'cancelled')),
    current_period_start   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    current_period_end     TIMESTAMPTZ  NOT NULL,
    cancel_at              TIMESTAMPTZ,
    external_customer_id   VARCHAR(255),
    external_subscription_id VARCHAR(255),
    created_at             TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS subscriptions_organization_id_idx ON subscriptions (organization_id);
CREATE INDEX IF NOT EXISTS subscriptions_plan_id_idx ON subscriptions (plan_id);
CREATE INDEX IF NOT EXISTS subscriptions_status_idx ON subscriptions (status);

-- +migrate Down
DROP TABLE IF EXISTS subscriptions;
