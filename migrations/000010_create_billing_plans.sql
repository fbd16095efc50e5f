-- +migrate Up
CREATE TABLE IF NOT EXISTS billing_plans (
    id                VARCHAR(26) PRIMARY KEY,
    slug              VARCHAR(50)  NOT NULL,
    name              VARCHAR(255) NOT NULL,
    price_cents       INTEGER      NOT NULL DEFAULT 0 CONSTRAINT billing_plans_price_check CHECK (price_cents >= 0),
    currency          CHAR(3)      NOT NULL DEFAULT 'USD',
    billing_interval  VARCHAR(10)  NOT NULL DEFAULT 'month'
        CONSTRAINT billing_plans_interval_check CHECK (billing_interval IN ('month', 'year')),
    included_events   BIGINT       NOT NULL DEFAULT 0,
    limits            JSONB        NOT NULL DEFAULT '{}',
    status            VARCHAR(20)  NOT NULL DEFAULT 'active'
        CONSTRAINT billing_plans_status_check CHECK (status IN ('active', 'retired')),
    created_at        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT billing_plans_slug_key UNIQUE (slug)
);
CREATE INDEX IF NOT EXISTS billing_plans_status_idx ON billing_plans (status);

-- +migrate Down
DROP TABLE IF EXISTS billing_plans;
