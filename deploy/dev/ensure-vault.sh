#!/usr/bin/env bash
# ensure-vault.sh makes the test Vault server binary (third_party/vaultdev, a
# minimal in-memory Vault with KV v2, Transit and AppRole) available and
# prints its path on stdout — nothing else goes to stdout.
#
# The build takes several minutes from an empty Go cache (Vault has ~500
# dependencies), so the binary is cached outside the repository under a key
# derived from the module's sources:
#
#   ${CITYOPS_VAULTDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cityops/vaultdev}/<key>/vaultdev
#
# where <key> is the first 16 hex digits of the SHA-256 of the output of
# `sha256sum go.mod go.sum <*.go in byte order>` run inside
# third_party/vaultdev. app/pkg/testvault computes the same key, so tests
# find the binary without running this script. It is idempotent: when the
# binary exists it only prints the path. Concurrent runs (several test
# packages at once) serialize on a lock file and build once.
#
# Usage:
#   deploy/dev/ensure-vault.sh               build if needed, print the path
#   deploy/dev/ensure-vault.sh --print-path  only print where the binary
#                                            belongs (no build; for checks)
#
# Environment:
#   CITYOPS_VAULTDEV_CACHE  cache root (default as above)
set -euo pipefail

die() { printf 'ensure-vault: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'ensure-vault: %s\n' "$*" >&2; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
src="${repo}/third_party/vaultdev"
[[ -f "${src}/go.mod" && -f "${src}/go.sum" ]] || die "missing ${src}/go.mod or go.sum"
command -v go >/dev/null 2>&1 || die "go is not on PATH"

# cache_key hashes the module definition and every Go file, so any change to
# the server or its pinned dependencies yields a new binary.
cache_key() {
	(
		cd "$src"
		mapfile -t gofiles < <(find . -maxdepth 1 -name '*.go' -printf '%f\n' | LC_ALL=C sort)
		sha256sum go.mod go.sum "${gofiles[@]}" | sha256sum | cut -c1-16
	)
}

cache_root="${CITYOPS_VAULTDEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cityops/vaultdev}"
dir="${cache_root}/$(cache_key)"
bin="${dir}/vaultdev"

case "${1:-}" in
"") ;;
--print-path)
	printf '%s\n' "$bin"
	exit 0
	;;
*) die "unknown argument ${1} (want no argument or --print-path)" ;;
esac

if [[ -x "$bin" ]]; then
	printf '%s\n' "$bin"
	exit 0
fi

mkdir -p "$dir"
# flock serializes concurrent builds; where it is missing, two builds may
# race, which is only wasteful: each renames a complete binary into place.
exec 9>"${dir}/.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi
if [[ -x "$bin" ]]; then
	printf '%s\n' "$bin"
	exit 0
fi

say "building the test Vault server (first time takes several minutes) -> ${bin}"
start=$SECONDS
tmp="$(mktemp "${dir}/vaultdev.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
# -mod=readonly: the committed go.sum must be complete, so a build never
# resolves versions on its own and every machine builds the same thing;
# -buildvcs=false: the binary must not depend on the checkout's git state.
(cd "$src" && GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -o "$tmp" .) \
	|| die "go build in third_party/vaultdev failed"
chmod 0755 "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT
say "built in $((SECONDS - start))s"
printf '%s\n' "$bin"
