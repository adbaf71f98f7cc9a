# CityOps — the two commands are `make run` and `make test`; `make help` lists the rest.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN        := $(CURDIR)/var/bin
PROTOC     := protoc
PROTO_INC  := -I api -I third_party
API_PROTOS := $(shell find api -name '*.proto' | sort)
CONF_PROTO := app/platform/internal/conf/conf.proto
GO_TEST_FLAGS ?= -race -count=1 -timeout 15m
BENCH      ?= .

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-18s %s\n", $$1, $$2}'

# run: build, migrate and onboard the sample tenants into ./var on first start,
# then serve with embedded defaults.
.PHONY: run
run: ## run the platform with embedded defaults (SQLite in ./var, sample tenants)
	@mkdir -p var
	go build -o $(BIN)/platform ./app/platform/cmd/platform
	go build -o $(BIN)/cityctl ./app/cityctl
	$(BIN)/platform

# test: installs/starts what the tests need (PostgreSQL on 127.0.0.1, protoc, a Vault dev
# server binary built from Go modules and cached), then the whole suite.
.PHONY: test
test: deps ## run the whole test suite (starts PostgreSQL and installs protoc if needed)
	go vet ./...
	go test $(GO_TEST_FLAGS) ./...

.PHONY: deps
deps: ## install and start what the tests need (idempotent)
	deploy/dev/ensure-protoc.sh
	deploy/dev/ensure-postgres.sh
	deploy/dev/ensure-vault.sh >/dev/null
	deploy/dev/ensure-kcat.sh

.PHONY: tools
tools: ## build the pinned protoc plugins and ours into ./var/bin
	@mkdir -p $(BIN)
	GOBIN=$(BIN) go install tool
	go build -o $(BIN)/protoc-gen-go-http ./app/tools/protoc-gen-go-http
	go build -o $(BIN)/protoc-gen-go-errors ./app/tools/protoc-gen-go-errors

# api: regenerates *.pb.go, *_grpc.pb.go, *_http.pb.go, *_errors.pb.go,
# *.pb.validate.go and api/openapi.yaml from the protos.
.PHONY: api
api: tools ## regenerate code from the protos (installs protoc and the plugins)
	deploy/dev/ensure-protoc.sh
	PATH=$(BIN):$$PATH $(PROTOC) $(PROTO_INC) \
	  --go_out=paths=source_relative:api \
	  --go-grpc_out=paths=source_relative:api \
	  --go-http_out=paths=source_relative:api \
	  --go-errors_out=paths=source_relative:api \
	  --validate_out=paths=source_relative,lang=go:api \
	  $(API_PROTOS)
	PATH=$(BIN):$$PATH $(PROTOC) $(PROTO_INC) \
	  --openapi_out=fq_schema_naming=true,default_response=false,enum_type=string:api \
	  $(filter-out api/errors/%,$(API_PROTOS))
	PATH=$(BIN):$$PATH $(PROTOC) -I app/platform/internal/conf -I third_party \
	  --go_out=paths=source_relative:app/platform/internal/conf $(CONF_PROTO)

.PHONY: ent
ent: ## regenerate the ent code from ent/schema
	go run ent/entc.go

.PHONY: migration
migration: ## write the next migration for both dialects: make migration NAME=add_x
	deploy/dev/ensure-postgres.sh
	go run ./app/tools/migrationgen -name $(NAME)

.PHONY: generate
generate: api ent ## regenerate all generated code

.PHONY: check-generated
check-generated: generate ## fail when committed generated code is stale
	@if [ -n "$$(git status --porcelain -- api ent app/platform/internal/conf)" ]; then \
	  echo "generated code is stale; run 'make generate' and commit:"; \
	  git status --porcelain -- api ent app/platform/internal/conf; exit 1; fi
	@echo "generated code is current"

.PHONY: check-deploy
check-deploy: ## validate the docker-compose and Kubernetes files
	go test -count=1 ./deploy/...

.PHONY: bench
bench: deps ## run the benchmarks named in the issues (BENCH=regexp)
	go test -run '^$$' -bench '$(BENCH)' -benchmem ./...

.PHONY: coldstart
coldstart: ## measure the cold start of the platform to /readyz on a fresh SQLite file
	go build -o $(BIN)/platform ./app/platform/cmd/platform
	go run ./app/tools/coldstart -bin $(BIN)/platform

.PHONY: fuzz
fuzz: ## fuzz every parser for FUZZTIME each (default 30s); opt-in, not part of make test
	@for p in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$p/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    go test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} $$p || exit 1; done; done
