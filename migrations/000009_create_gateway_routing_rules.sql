-- +migrate Up
CREATE TABLE IF NOT EXISTS gateway_routing_rules (
    id              VARCHAR(26) PRIMARY KEY,
    project_id      VARCHAR(26)  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    target_model_id VARCHAR(26)  NOT NULL REFERENCES gateway_models (id) ON DELETE CASCADE,
    name            VARCHAR(255) NOT NULL,
    strategy        VARCHAR(30)  NOT NULL DEFAULT 'priority'
        CONSTRAINT gateway_routing_rules_strategy_check CHECK (strategy IN ('priority', 'round_robin', 'least_latency', 'least_cost', 'fallback')),
    priority        INTEGER      NOT NULL DEFAULT 100,
    conditions      JSONB        NOT NULL DEFAULT '{}',
    status          VARCHAR(20)  NOT NULL DEFAULT 'active'
        CONSTRAINT gateway_routing_rules_status_check CHECK (status IN ('active', 'disabled')),
    created_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS gateway_routing_rules_project_id_idx ON gateway_routing_rules (project_id);
CREATE INDEX IF NOT EXISTS gateway_routing_rules_target_model_id_idx ON gateway_routing_rules (target_model_id);
CREATE INDEX IF NOT EXISTS gateway_routing_rules_status_idx ON gateway_routing_rules (status);

-- +migrate Down
DROP TABLE IF EXISTS gateway_routing_rules;
