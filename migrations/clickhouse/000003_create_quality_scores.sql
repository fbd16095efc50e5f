-- +migrate Up
CREATE TABLE IF NOT EXISTS quality_scores
(
    id                String,
    project_id        String,
    trace_id          String,
    span_id           Nullable(String),
    name              String,
    value             Nullable(Float64),
    string_value      Nullable(String),
    data_type         LowCardinality(String) DEFAULT 'NUMERIC',
    source            LowCardinality(String) DEFAULT 'API',
    comment           Nullable(String) CODEC(ZSTD(3)),
    evaluator_name    Nullable(String),
    evaluator_version Nullable(String),
    author_user_id    Nullable(String),
    timestamp         DateTime64(3),
    created_at        DateTime64(3) DEFAULT now64(3),
    updated_at        DateTime64(3) DEFAULT now64(3),
    is_deleted        UInt8 DEFAULT 0,
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(updated_at, is_deleted)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (project_id, toDate(timestamp), name, id)
TTL toDateTime(timestamp) + INTERVAL 365 DAY
SETTINGS index_granularity = 8192;

-- +migrate Down
DROP TABLE IF EXISTS quality_scores;
