-- +migrate Up
CREATE TABLE IF NOT EXISTS gateway_models (
    id                       VARCHAR(26) PRIMARY KEY,
    provider_id              VARCHAR(26)    NOT NULL REFERENCES gateway_providers (id) ON DELETE CASCADE,
    model_name               VARCHAR(255)   NOT NULL,
    display_name             VARCHAR(255)   NOT NULL DEFAULT '',
    input_cost_per_1k_tokens  NUMERIC(12, 6) NOT NULL DEFAULT 0,
    output_cost_per_1k_tokens NUMERIC(12, 6) NOT NULL DEFAULT 0,
    context_window           INTEGER,
    supports_streaming       BOOLEAN        NOT NULL DEFAULT true,
    status                   VARCHAR(20)    NOT NULL DEFAULT 'active'
        CONSTRAINT gateway_models_status_check CHECK (status IN ('active', 'deprecated', 'disabled')),
    created_at               TIMESTAMPTZ    NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ    NOT NULL DEFAULT now(),
    CONSTRAINT gateway_models_provider_model_key UNIQUE (provider_id, model_name)
);
CREATE INDEX IF NOT EXISTS gateway_models_provider_id_idx ON gateway_models (provider_id);
CREATE INDEX IF NOT EXISTS gateway_models_status_idx ON gateway_models (status);

-- +migrate Down
DROP TABLE IF EXISTS gateway_models;
