-- +migrate Up
-- One row per trace. Rows are rewritten on update and soft-deleted with is_deleted = 1:
-- ReplacingMergeTree keeps the row with the highest updated_at.
CREATE TABLE IF NOT EXISTS traces
(
    id           String,
    project_id   String,
    name         String,
    user_id      Nullable(String),
    session_id   Nullable(String),
    start_time   DateTime64(3),
    end_time     Nullable(DateTime64(3)),
    input        Nullable(String) CODEC(ZSTD(3)),
    output       Nullable(String) CODEC(ZSTD(3)),
    metadata     String DEFAULT '{}' CODEC(ZSTD(3)),
    tags         Array(String),
    environment  LowCardinality(String) DEFAULT 'default',
    release      Nullable(String),
    version      Nullable(String),
    status_code  LowCardinality(String) DEFAULT 'unset',
    total_cost   Nullable(Decimal(18, 9)),
    total_tokens Nullable(UInt64),
    created_at   DateTime64(3) DEFAULT now64(3),
    updated_at   DateTime64(3) DEFAULT now64(3),
    is_deleted   UInt8 DEFAULT 0,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_session_id session_id TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(updated_at, is_deleted)
PARTITION BY toYYYYMM(start_time)
ORDER BY (project_id, toDate(start_time), id)
TTL toDateTime(start_time) + INTERVAL 365 DAY
SETTINGS index_granularity = 8192;

-- +migrate Down
DROP TABLE IF EXISTS traces;
