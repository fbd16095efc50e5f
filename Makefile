# brokle: database lifecycle for PostgreSQL + ClickHouse.
SHELL   := /bin/bash
GO      ?= go
BROKLE  ?= $(GO) run ./cmd/brokle
DB      ?= all
NAME    ?=
VERSION ?= dev
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X github.com/brokle-ai/brokle/pkg/cli.version=$(VERSION) \
           -X github.com/brokle-ai/brokle/pkg/cli.commit=$(COMMIT) -X github.com/brokle-ai/brokle/pkg/cli.date=$(DATE)

.PHONY: install build test services lint fuzz libchdb dev-up migrate-verify bench bench-quick bench-down bench-verify bench-migrate bench-seed bench-start bench-ch-up bench-ch-seed \
        db-create shell-db shell-clickhouse shell-redis release-check snapshot seed-dev seed-demo seed-test migrate-up migrate-down migrate-status migrate-reset create-migration migrate-validate

install: ## install brokle into GOBIN (default $(go env GOPATH)/bin), with the version stamped
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/brokle

build: ## build bin/brokle
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/brokle ./cmd/brokle

services: ## install and start PostgreSQL, ClickHouse and Redis for the tests
	bash scripts/test-services.sh

test: services ## the whole suite against the real servers and the embedded engine; skips are listed with their reasons
	set -o pipefail; BROKLE_LIBCHDB="$${BROKLE_LIBCHDB:-$$(bash scripts/libchdb.sh || true)}" $(GO) test -count=1 -timeout 40m -json ./... | $(GO) run ./internal/testreport

libchdb: ## fetch libchdb.so (ClickHouse 26, in-process) through npm into ~/.cache/brokle; prints its path
	@bash scripts/libchdb.sh

EMBEDDED_CH ?= chdb://$(CURDIR)/.brokle/clickhouse
dev-up: ## the main job on a fresh machine: create and migrate PostgreSQL (local server) and ClickHouse (embedded engine)
	export BROKLE_LIBCHDB="$${BROKLE_LIBCHDB:-$$(bash scripts/libchdb.sh)}" BROKLE_CLICKHOUSE_URL="$${BROKLE_CLICKHOUSE_URL:-$(EMBEDDED_CH)}"; \
	$(BROKLE) db create && $(BROKLE) migrate up && $(BROKLE) migrate status

migrate-verify: ## prove every Down undoes its Up: PostgreSQL on the local server, ClickHouse on the embedded engine
	$(BROKLE) migrate verify --db postgres
	BROKLE_LIBCHDB="$${BROKLE_LIBCHDB:-$$(bash scripts/libchdb.sh)}" $(BROKLE) migrate verify --db clickhouse --dev-url chdb:memory

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

db-create: ## create the configured databases if missing
	$(BROKLE) db create --db $(DB)

migrate-up:
	$(BROKLE) migrate up --db $(DB)

migrate-down:
	$(BROKLE) migrate down --db $(DB)

migrate-status:
	$(BROKLE) migrate status --db $(DB)

migrate-reset:
	$(BROKLE) migrate reset --db $(DB)

migrate-validate:
	$(BROKLE) migrate validate --db $(DB)

seed-dev:
	$(BROKLE) seed dev --db $(DB)

seed-demo:
	$(BROKLE) seed demo --db $(DB)

seed-test:
	$(BROKLE) seed test --db $(DB)

shell-db: ## psql on the configured PostgreSQL
	$(BROKLE) shell postgres

shell-clickhouse:
	$(BROKLE) shell clickhouse

shell-redis:
	$(BROKLE) shell redis

GORELEASER ?= $(shell go env GOPATH)/bin/goreleaser
$(GORELEASER):
	GOFLAGS= $(GO) install github.com/goreleaser/goreleaser/v2@v2.16.0

release-check: $(GORELEASER) ## validate .goreleaser.yaml
	$(GORELEASER) check

snapshot: $(GORELEASER) ## build every release archive locally, into dist/
	$(GORELEASER) release --snapshot --clean

create-migration: ## make create-migration DB=postgres NAME=add_x
	@test -n "$(NAME)" || { echo "usage: make create-migration DB=postgres|clickhouse NAME=snake_case_name" >&2; exit 2; }
	$(BROKLE) migrate create --db $(if $(filter all,$(DB)),postgres,$(DB)) --name $(NAME)

bench: build ## every row of the benchmark table, peers interleaved (goose, dbmate, golang-migrate, psql, clickhouse-client), one markdown table of medians, ratios and goals
	bash bench/all.sh

bench-quick: build ## make bench at smoke sizes, one run each (a minute or two)
	BENCH_QUICK=1 bash bench/all.sh

bench-down: build ## one-shot migrate down, 100 steps, a process each: CPU and wall per step vs goose
	bash bench/down.sh

bench-verify: build
	bash bench/verify.sh

bench-migrate: build ## PostgreSQL up of 100/300/1,000 migrations vs goose, dbmate, golang-migrate, psql; status with 5,000 applied
	bash bench/migrate.sh

bench-seed: build ## PostgreSQL seed of 100,000 and 1,000,000 rows (two shapes): brokle vs psql \copy
	bash bench/seed.sh

bench-ch-up: build ## ClickHouse migrate up of 100 migrations: brokle vs golang-migrate vs clickhouse-client --multiquery
	bash bench/ch-up.sh

bench-ch-seed: build ## ClickHouse seed of 100,000 and 1,000,000 rows: brokle vs clickhouse-client FORMAT CSV
	bash bench/ch-seed.sh

bench-start: build
	bash bench/start.sh

FUZZTIME ?= 30s
fuzz: ## run each fuzz target for FUZZTIME (default 30s); crashes land in testdata/fuzz and become regular tests
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) ./pkg/migrate
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./pkg/seed
