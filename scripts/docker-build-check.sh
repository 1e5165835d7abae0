#!/usr/bin/env bash
# The Dockerfile's steps without Docker: the build context as .dockerignore lets it through, the build
# stage (npm ci, tsc), the deps stage (npm ci --omit=dev in a clean tree), the runtime layout (package.json,
# node_modules, dist), then the image's ENTRYPOINT started from /app as its USER with the code read-only,
# checked over HTTPS on /healthz and /readyz.
# Usage: scripts/docker-build-check.sh [WORKDIR]    (default: a temporary directory, removed afterwards)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
keep=${1:+yes}
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cleanup() { chmod -R u+w "$work"; [[ -n $keep ]] || rm -rf "$work"; }
trap cleanup EXIT
npm_flags=(--no-audit --no-fund --prefer-offline --loglevel=error)
step() { printf '[docker-build-check] %s\n' "$*" >&2; }

step "context: $(grep '^!' "$root/.dockerignore" | tr -d '!' | tr '\n' ' ')"
mkdir -p "$work/context"
grep '^!' "$root/.dockerignore" | tr -d '!' | while read -r path; do mkdir -p "$work/context/$(dirname "$path")" && cp -R "$root/$path" "$work/context/$path"; done

step "build stage: npm ci, crd-schemas, tsc"
mkdir -p "$work/build"
cp "$work/context/package.json" "$work/context/package-lock.json" "$work/build/"
(cd "$work/build" && npm ci "${npm_flags[@]}")
cp -R "$work/context/tsconfig.json" "$work/context/policies" "$work/context/server" "$work/context/certs" "$work/context/kube" "$work/build/"
mkdir -p "$work/build/scripts" "$work/build/manifests/crds"
cp "$work/context/scripts/crd-schemas.mjs" "$work/build/scripts/"
cp -R "$work/context/manifests/crds/upstream" "$work/build/manifests/crds/"
(cd "$work/build" && node scripts/crd-schemas.mjs && npx tsc -p tsconfig.json)

step "deps stage: npm ci --omit=dev"
mkdir -p "$work/deps"
cp "$work/context/package.json" "$work/context/package-lock.json" "$work/deps/"
(cd "$work/deps" && npm ci --omit=dev "${npm_flags[@]}")

step "runtime: /app"
app="$work/app"
mkdir -p "$app"
cp "$work/context/package.json" "$app/"
cp -R "$work/deps/node_modules" "$app/node_modules"
cp -R "$work/build/dist" "$app/dist"
node -e '
  const [lock, modules] = process.argv.slice(1);
  const devOnly = Object.entries(require(lock).packages).filter(([path, p]) => p.dev && path.startsWith("node_modules/"));
  const present = devOnly.map(([path]) => path).filter((path) => require("fs").existsSync(require("path").join(modules, "..", path)));
  if (present.length) { console.error("dev-only packages in the runtime image:", present.slice(0, 10).join(", ")); process.exit(1); }' \
  "$root/package-lock.json" "$app/node_modules"
chmod -R a-w "$app"
step "runtime size: $(du -sh "$app" | cut -f1) (node_modules $(du -sh "$app/node_modules" | cut -f1))"

mapfile -t entrypoint < <(node -e '
  const line = require("fs").readFileSync(process.argv[1], "utf8").split("\n").find((l) => l.startsWith("ENTRYPOINT "));
  for (const word of JSON.parse(line.slice("ENTRYPOINT ".length))) console.log(word);' "$root/Dockerfile")
user=$(sed -n 's/^USER //p' "$root/Dockerfile" | tail -1)
as_user=()
if [[ $(id -u) -eq 0 ]]; then
  # The image user must be able to reach /app, as it can in the image.
  d=$app; while [[ $d != / ]]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
  as_user=(setpriv --reuid "${user%%:*}" --regid "${user##*:}" --clear-groups)
fi
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
step "start: ${as_user[*]} ${entrypoint[*]} --port $port --host 127.0.0.1"
log="$work/serve.log"
(cd "$app" && exec env -i PATH="$PATH" HOME=/nonexistent NODE_ENV=production "${as_user[@]}" "${entrypoint[@]}" --port "$port" --host 127.0.0.1) >"$log" 2>&1 &
pid=$!
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap 'stop; cleanup' EXIT
for _ in $(seq 1 100); do
  if grep -q '"listening on https://' "$log"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log" >&2; echo "netguard exited before listening" >&2; exit 1; fi
  sleep 0.1
done
for path in /healthz /readyz; do
  body=$(curl -ksS --max-time 5 "https://127.0.0.1:$port$path")
  if [[ $body != ok ]]; then cat "$log" >&2; echo "GET $path answered: $body" >&2; exit 1; fi
  step "GET $path: $body"
done
echo "ok: the image's build steps produce a netguard that serves /healthz and /readyz as user $user"
