# Sourced by the test-only Go modules' build.sh (test/k8s, test/dataplane): builds binaries from the Go module
# proxy into a cache outside the repo, keyed by the module's go.sum:
#
#   $root/<first 16 hex digits of sha256(go.sum)>/bin/
#
# A cache entry is only ever created by an atomic rename of a finished build, so an interrupted build leaves
# nothing behind that looks complete; concurrent builds of one key are serialised with flock. The caller sets
# `root` and `bins`, defines `build_into DIR` (compile into DIR/bin), then calls `cached_build`, which prints the
# bin directory as its last stdout line. Progress goes to stderr.

log() { printf '[%s] %s\n' "${log_tag:-build}" "$*" >&2; }

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
export CGO_ENABLED=0

complete() {
  local b
  for b in "${bins[@]}"; do [[ -x "$1/bin/$b" ]] || return 1; done
}

# Long steps run in the background and are waited for, so that a SIGTERM or SIGINT to the script stops the go
# command at once (bash defers traps while a foreground child runs) and the temp dir is removed.
child=
run() {
  "$@" &
  child=$!
  wait "$child"
  child=
}

cached_build() {
  local key dest tmp
  if command -v sha256sum >/dev/null 2>&1; then
    key="$(sha256sum go.sum | cut -c1-16)"
  else
    key="$(shasum -a 256 go.sum | cut -c1-16)"
  fi
  dest="$root/$key"
  if complete "$dest"; then
    log "cached: $dest/bin"
    echo "$dest/bin"
    return 0
  fi
  mkdir -p "$root"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$root/.lock-$key"
    flock 9
    if complete "$dest"; then
      log "cached (built concurrently): $dest/bin"
      echo "$dest/bin"
      return 0
    fi
    # We hold the lock, so any temp dir for this key is left from a killed build.
    rm -rf "$root/.tmp-$key".*
  fi
  tmp="$(mktemp -d "$root/.tmp-$key.XXXXXX")"
  on_signal() {
    if [[ -n "$child" ]]; then kill "$child" 2>/dev/null || true; fi
    exit "$1"
  }
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" EXIT
  trap 'on_signal 130' INT
  trap 'on_signal 143' TERM
  chmod 755 "$tmp"
  mkdir -p "$tmp/bin"
  log "$("$GO" version); go.sum key $key -> $dest"
  local t0=$SECONDS
  build_into "$tmp"
  complete "$tmp" || { log "error: build did not produce ${bins[*]}"; exit 1; }
  # Replace any incomplete leftover (e.g. a binary deleted by hand), then publish the finished build with a
  # single rename.
  if [[ -e "$dest" ]]; then rm -rf "$dest"; fi
  mv -T "$tmp" "$dest"
  trap - EXIT
  log "done in $((SECONDS - t0))s: $(du -sh "$dest/bin" | cut -f1) in $dest/bin"
  echo "$dest/bin"
}
