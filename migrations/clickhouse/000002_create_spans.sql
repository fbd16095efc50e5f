-- +migrate Up
-- OTEL-native spans: attributes and metadata are JSON kept as String; large payloads compressed.
CREATE TABLE IF NOT EXISTS spans
(
    span_id        String,
    trace_id       String,
    parent_span_id Nullable(String),
    project_id     String,
    name           String,
    span_kind      LowCardinality(String) DEFAULT 'INTERNAL',
    type           LowCardinality(String) DEFAULT 'span',
    start_time     DateTime64(3),
    end_time       Nullable(DateTime64(3)),
    status_code    LowCardinality(String) DEFAULT 'UNSET',
    status_message Nullable(String),
    level          LowCardinality(String) DEFAULT 'DEFAULT',
    attributes     String DEFAULT '{}' CODEC(ZSTD(3)),
    metadata       String DEFAULT '{}' CODEC(ZSTD(3)),
    input          Nullable(String) CODEC(ZSTD(3)),
    output         Nullable(String) CODEC(ZSTD(3)),
    model_name     Nullable(String),
    provider       Nullable(String),
    usage_details  Map(String, UInt64),
    cost_details   Map(String, Decimal(18, 9)),
    total_cost     Nullable(Decimal(18, 9)),
    created_at     DateTime64(3) DEFAULT now64(3),
    updated_at     DateTime64(3) DEFAULT now64(3),
    is_deleted     UInt8 DEFAULT 0,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_model_name model_name TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(updated_at, is_deleted)
PARTITION BY toYYYYMM(start_time)
ORDER BY (project_id, toDate(start_time), trace_id, span_id)
TTL toDateTime(start_time) + INTERVAL 90 DAY
SETTINGS index_granularity = 8192;

-- +migrate Down
DROP TABLE IF EXISTS spans;
