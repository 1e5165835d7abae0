#!/usr/bin/env bash
# Build kube-router (its network policy controller is what the dataplane harness runs) from source, Go module
# proxy only, into a cache outside the repo:
#
#   ${NETGUARD_DATAPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netguard/dataplane}/<key>/bin/kube-router
#
# Usage: BIN=$(test/dataplane/build.sh | tail -1)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

log_tag=dataplane-build
# shellcheck source=../helpers/cached-go-build.sh
source "$here/../helpers/cached-go-build.sh"
root="${NETGUARD_DATAPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netguard/dataplane}"
bins=(kube-router)

build_into() {
  log "compiling kube-router $("$GO" list -m -f '{{.Version}}' github.com/cloudnativelabs/kube-router/v2) (a few minutes cold) ..."
  run "$GO" build -trimpath -ldflags="-s -w" -o "$1/bin/" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
}

cached_build
