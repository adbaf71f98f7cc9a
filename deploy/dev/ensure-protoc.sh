#!/usr/bin/env bash
# Makes sure protoc (3.21.x, Debian's protobuf-compiler) and the protobuf
# well-known types are installed. Idempotent; needs root on Debian when it has
# to install. The Go protoc plugins are pinned in go.mod and built by `make api`.
set -euo pipefail

if command -v protoc >/dev/null 2>&1 && [ -f /usr/include/google/protobuf/timestamp.proto ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-protoc: protoc is missing; run as root or: apt-get install protobuf-compiler libprotobuf-dev" >&2
  exit 1
fi
echo "ensure-protoc: installing protobuf-compiler and libprotobuf-dev"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null
protoc --version
