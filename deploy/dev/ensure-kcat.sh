#!/usr/bin/env bash
# ensure-kcat.sh makes kcat (Debian package kcat: librdkafka's command-line
# client) available for the interoperability test of the federation feed
# (app/relay: a client that is not ours reads the CloudEvents headers and
# the protobuf data the relay publishes).
#
# It is idempotent: when kcat is on the PATH it exits 0 without output.
# Otherwise, as root, it installs the package with apt-get (running
# apt-get update first only when the package is unknown) and prints one
# line. Without root and without kcat it exits 1 with the command to run.
# Meant for developer machines and CI runners (Debian, no TTY).
set -euo pipefail

say() { printf 'ensure-kcat: %s\n' "$*"; }
die() { printf 'ensure-kcat: error: %s\n' "$*" >&2; exit 1; }

if command -v kcat >/dev/null 2>&1; then
	exit 0
fi
if [[ "$(id -u)" -ne 0 ]]; then
	die "kcat is missing; run this script as root or: apt-get install kcat"
fi
command -v apt-get >/dev/null 2>&1 || die "kcat is missing and apt-get is not available (not Debian?)"

export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show kcat >/dev/null 2>&1; then
	apt-get update -qq >/dev/null
fi
say "installing kcat (apt-get)"
apt-get install -y -qq --no-install-recommends kcat >/dev/null
command -v kcat >/dev/null 2>&1 || die "apt-get installed kcat but it is not on the PATH"
say "$(kcat -V 2>&1 | head -n 1)"
