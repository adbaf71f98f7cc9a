# syntax=docker/dockerfile:1
#
# CityOps platform image: the platform server and the cityctl admin CLI.
# Build from the repository root (the context must hold go.mod):
#
#   docker build -f deploy/docker/platform.Dockerfile -t cityops/platform:dev .
#
# Run the server:   docker run cityops/platform:dev
# Run migrations:   docker run cityops/platform:dev cityctl migrate
# Onboard samples:  docker run cityops/platform:dev cityctl tenant onboard tenants/

############################ builder ############################
FROM golang:1.26 AS builder

# The Go module proxy is the image's default unless a mirror is given at
# build time: docker build --build-arg GOPROXY=<mirror> .
ARG GOPROXY
ARG VERSION=dev
ENV CGO_ENABLED=0 \
    GOFLAGS=-buildvcs=false

WORKDIR /src

# Dependencies first so they are cached independently of the sources.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/platform ./app/platform/cmd/platform \
 && go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/cityctl ./app/cityctl

############################ runtime ############################
# Runtime base: debian slim rather than distroless.
#  - A Docker HEALTHCHECK (used by docker-compose) must run a program inside
#    the container; distroless has neither a shell nor curl, so the check on
#    /healthz would be impossible there. Kubernetes does not need it (kubelet
#    probes with httpGet from outside the container).
#  - Distroless images are only published under a registry host prefix,
#    which this repository does not write into its files.
# The cost is ~30 MB more than distroless; the binaries are static
# (CGO_ENABLED=0), so switching the base later only needs the HEALTHCHECK
# dropped.
FROM debian:trixie-slim AS runtime

# ca-certificates: TLS to Vault, Kafka and PostgreSQL in production.
# curl: the HEALTHCHECK below. tzdata: the working calendars are local time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 cityops \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin cityops \
 && install -d -o 10001 -g 10001 /app/var

# /app/var is where the embedded defaults keep their SQLite file
# (`docker run` without configuration); production uses PostgreSQL and a
# read-only root filesystem.
WORKDIR /app

COPY --from=builder /out/platform /usr/local/bin/platform
COPY --from=builder /out/cityctl /usr/local/bin/cityctl
# Embedded-default configuration; Kubernetes mounts its own over /etc/cityops.
COPY app/platform/configs/config.yaml /etc/cityops/config.yaml
# Sample tenant manifests (南宁市, its counties, 广西, national) for
# `cityctl tenant onboard tenants/` and the first-start seed (seed_dir: tenants).
COPY tenants/ /app/tenants/

# Numeric user so Kubernetes runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001

ENV TZ=Asia/Shanghai \
    CITYOPS_HTTP_ADDR=0.0.0.0:8000 \
    CITYOPS_GRPC_ADDR=0.0.0.0:9000

# 8000: HTTP (REST, /healthz, /readyz, /metrics, /openapi.yaml); 9000: gRPC.
EXPOSE 8000 9000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8000/healthz"]

CMD ["platform", "-conf", "/etc/cityops/config.yaml"]
