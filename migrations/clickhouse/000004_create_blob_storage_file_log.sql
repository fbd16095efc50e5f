-- +migrate Up
-- Where each large payload moved to object storage lives, so it can be found and deleted.
CREATE TABLE IF NOT EXISTS blob_storage_file_log
(
    id           String,
    project_id   String,
    entity_type  LowCardinality(String),
    entity_id    String,
    event_id     String,
    bucket_name  String,
    bucket_path  String,
    content_type LowCardinality(String) DEFAULT 'application/json',
    file_size    UInt64 DEFAULT 0,
    created_at   DateTime64(3) DEFAULT now64(3),
    updated_at   DateTime64(3) DEFAULT now64(3),
    is_deleted   UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(updated_at, is_deleted)
PARTITION BY toYYYYMM(created_at)
ORDER BY (project_id, entity_type, entity_id, event_id)
TTL toDateTime(created_at) + INTERVAL 365 DAY
SETTINGS index_granularity = 8192;

-- +migrate Down
DROP TABLE IF EXISTS blob_storage_file_log;
