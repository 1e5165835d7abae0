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

log() { printf '[k8s-build] %s\n' "$*" >&2; }

GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then
    GO=go
  elif [[ -x /usr/local/go/bin/go ]]; then
    GO=/usr/local/go/bin/go
  else
    log "error: no Go toolchain found (set GO=/path/to/go)"
    exit 1
  fi
fi

# Never let the go command fetch another toolchain, and do not inherit GOFLAGS
# such as -mod=mod/-mod=vendor from the caller's environment.
export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0 # static binaries, as upstream builds kube-apiserver

if command -v sha256sum >/dev/null 2>&1; then
  key="$(sha256sum go.sum | cut -c1-16)"
else
  key="$(shasum -a 256 go.sum | cut -c1-16)"
fi
root="${NETGUARD_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/netguard/k8s}"
dest="$root/$key"
bins=(kube-apiserver kube-controller-manager etcd kubectl)

complete() {
  local b
  for b in "${bins[@]}"; do [[ -x "$1/bin/$b" ]] || return 1; done
}

if complete "$dest"; then
  log "cached: $dest/bin"
  echo "$dest/bin"
  exit 0
fi

mkdir -p "$root"

# Serialise concurrent builds of the same key (e.g. parallel test runs).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.lock-$key"
  flock 9
  if complete "$dest"; then
    log "cached (built concurrently): $dest/bin"
    echo "$dest/bin"
    exit 0
  fi
  # We hold the lock, so any temp dir for this key is left from a killed build.
  rm -rf "$root/.tmp-$key".*
fi

tmp="$(mktemp -d "$root/.tmp-$key.XXXXXX")"
# Long steps run in the background and are waited for, so that a SIGTERM or
# SIGINT to this script stops the go command at once (bash defers traps while
# a foreground child runs) and the temp dir is removed.
child=
run() {
  "$@" &
  child=$!
  wait "$child"
  child=
}
on_signal() {
  if [[ -n "$child" ]]; then kill "$child" 2>/dev/null || true; fi
  exit "$1"
}
trap 'rm -rf "$tmp"' EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
chmod 755 "$tmp"
mkdir -p "$tmp/bin"

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

log "$("$GO" version); kubernetes $k8s_version, etcd $etcd_version"
log "go.sum key $key -> $dest"

t0=$SECONDS
log "downloading modules (GOMODCACHE=$("$GO" env GOMODCACHE)) ..."
run "$GO" list -deps -tags="$tags" "${pkgs[@]}" >/dev/null
t1=$SECONDS
log "modules ready in $((t1 - t0))s; compiling (this takes several minutes cold) ..."
run "$GO" build -trimpath -tags="$tags" -ldflags="$ldflags" -o "$tmp/bin/" "${pkgs[@]}"
t2=$SECONDS
log "compiled in $((t2 - t1))s"

complete "$tmp" || { log "error: build did not produce ${bins[*]}"; exit 1; }
"$tmp/bin/kube-apiserver" --version >&2
"$tmp/bin/etcd" --version >&2
"$tmp/bin/kubectl" version --client >&2
"$tmp/bin/kube-controller-manager" --version >&2

# Replace any incomplete leftover (e.g. a binary deleted by hand), then publish
# the finished build with a single rename.
if [[ -e "$dest" ]]; then
  rm -rf "$dest"
fi
mv -T "$tmp" "$dest"
trap - EXIT
log "done in $((SECONDS - t0))s: $(du -sh "$dest/bin" | cut -f1) in $dest/bin"
echo "$dest/bin"
