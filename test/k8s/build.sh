#!/usr/bin/env bash
# Build a real kube-apiserver, kube-controller-manager, etcd and kubectl from source (Go module proxy only)
# for netguard's integration tests, into a cache directory outside the repo:
#
#   ${NETGUARD_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netguard/k8s}/<key>/bin/
#
# where <key> is the first 16 hex digits of sha256(go.sum). A cache entry is
# only ever created by an atomic rename of a finished build, so an interrupted
# build leaves nothing behind that looks complete. If all binaries already
# exist for the current go.sum, this exits at once.
#
# Usage: BIN=$(test/k8s/build.sh | tail -1)
# The bin directory is the last line of stdout; progress goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

log_tag=k8s-build
# shellcheck source=../helpers/cached-go-build.sh
source "$here/../helpers/cached-go-build.sh"
root="${NETGUARD_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netguard/k8s}"
bins=(kube-apiserver kube-controller-manager etcd kubectl)

build_into() {
  local tmp=$1
  k8s_version="$("$GO" list -m -f '{{.Version}}' k8s.io/kubernetes)"
  etcd_version="$("$GO" list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
  IFS=. read -r k8s_major k8s_minor _ <<<"${k8s_version#v}"

  # Same tags and version stamping as upstream's hack/lib/golang.sh and
  # hack/lib/version.sh, so `kubectl version` reports the real server version.
  tags="selinux,notest,grpcnotrace"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$k8s_version"
    ldflags+=" -X $pkg.gitMajor=$k8s_major -X $pkg.gitMinor=$k8s_minor"
    ldflags+=" -X $pkg.gitTreeState=clean"
  done
  pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl ./cmd/etcd)

  log "kubernetes $k8s_version, etcd $etcd_version"

  local t0=$SECONDS t1 t2
  log "downloading modules (GOMODCACHE=$("$GO" env GOMODCACHE)) ..."
  run "$GO" list -deps -tags="$tags" "${pkgs[@]}" >/dev/null
  t1=$SECONDS
  log "modules ready in $((t1 - t0))s; compiling (this takes several minutes cold) ..."
  run "$GO" build -trimpath -tags="$tags" -ldflags="$ldflags" -o "$tmp/bin/" "${pkgs[@]}"
  t2=$SECONDS
  log "compiled in $((t2 - t1))s"

  "$tmp/bin/kube-apiserver" --version >&2
  "$tmp/bin/etcd" --version >&2
  "$tmp/bin/kubectl" version --client >&2
  "$tmp/bin/kube-controller-manager" --version >&2
}

cached_build
