#!/usr/bin/env bash
# Reference / smoke test for the real-apiserver harness: builds (or reuses)
# kube-apiserver, kube-controller-manager and etcd via build.sh, generates
# throwaway certs with openssl, starts them on loopback, waits for /readyz and
# for the controller manager (its /healthz and the `default` ServiceAccount),
# runs `kubectl get ns`, and stops everything again. The flags here are the ones
# documented in README.md (and used by cluster.ts).
#
# Usage: smoke.sh [command args...]   (command runs while the cluster is up)
# Env: BIN (skip build.sh), KEEP=1 (keep the temp dir), KUBECTL (default: the kubectl built in BIN).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf '[k8s-smoke] %s\n' "$*" >&2; }

BIN="${BIN:-$("$here/build.sh" | tail -1)}"
KUBECTL="${KUBECTL:-$BIN/kubectl}"
work="$(mktemp -d "${TMPDIR:-/tmp}/netguard-k8s.XXXXXX")"
pids=()

# Stop in reverse start order (controller manager, apiserver, then etcd): an
# apiserver whose etcd is already gone takes ~a minute to exit.
cleanup() {
  local i p t
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    t=$SECONDS
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    log "stopped pid $p in $((SECONDS - t))s"
  done
  if [[ "${KEEP:-}" == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free loopback TCP port (nothing accepts a connection on it).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

# --- certificates -----------------------------------------------------------
pki="$work/pki"
mkdir -p "$pki"
(
  cd "$pki"
  exec 2>/dev/null # openssl is chatty
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -keyout ca.key -out ca.crt -subj "/CN=netguard-test-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
  # sign NAME SUBJECT EXTENSION...: a key and a certificate signed by the test CA.
  sign() {
    local name=$1 subject=$2
    shift 2
    openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject"
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
      -days 2 -out "$name.crt" -extfile <(printf '%s\n' "$@")
  }
  # apiserver serving cert; Go ignores CN, the SANs are what matter.
  sign apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth"
  # admin client cert: O=system:masters is bound to cluster-admin.
  sign admin "/O=system:masters/CN=netguard-admin" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=clientAuth"
  # kube-controller-manager: its client identity (bound to system:kube-controller-manager
  # by the default RBAC policy) and its serving cert for /healthz.
  sign kcm "/CN=system:kube-controller-manager" \
    "subjectAltName=IP:127.0.0.1" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth"
  # service-account token signing key pair
  openssl genrsa -out sa.key 2048
  openssl rsa -in sa.key -pubout -out sa.pub
)

# --- etcd -------------------------------------------------------------------
etcd_port="$(free_port)"
etcd_url="http://127.0.0.1:$etcd_port"
"$BIN/etcd" \
  --data-dir="$work/etcd" \
  --listen-client-urls="$etcd_url" \
  --advertise-client-urls="$etcd_url" \
  --listen-peer-urls=http://127.0.0.1:0 \
  --unsafe-no-fsync \
  --log-level=warn \
  >"$work/etcd.log" 2>&1 &
pids+=($!)

# --- kube-apiserver ---------------------------------------------------------
api_port="$(free_port)"
t0=$(date +%s.%N)
"$BIN/kube-apiserver" \
  --etcd-servers="$etcd_url" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --secure-port="$api_port" \
  --cert-dir="$work/apiserver-certs" \
  --tls-cert-file="$pki/apiserver.crt" \
  --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-account-key-file="$pki/sa.pub" \
  --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --allow-privileged=true \
  --disable-admission-plugins=ServiceAccount \
  --endpoint-reconciler-type=none \
  --v=1 \
  >"$work/apiserver.log" 2>&1 &
pids+=($!)

# A kubeconfig for the API server as user $1 with the client cert $2.{crt,key}.
kubeconfig() {
  cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: netguard-test
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority: $pki/ca.crt
users:
- name: $1
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: netguard-test
  context: {cluster: netguard-test, user: $1}
current-context: netguard-test
EOF
}
kubeconfig admin admin >"$work/kubeconfig"
kubeconfig system:kube-controller-manager kcm >"$work/controller-manager.kubeconfig"

# /readyz is readable anonymously (system:public-info-viewer); only the CA is needed.
log "etcd $etcd_url, apiserver https://127.0.0.1:$api_port, waiting for /readyz ..."
deadline=$((SECONDS + 120))
until [[ "$(curl -s --cacert "$pki/ca.crt" "https://127.0.0.1:$api_port/readyz" || true)" == ok ]]; do
  for p in "${pids[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then
      log "a process died; logs:"; tail -n 30 "$work/etcd.log" "$work/apiserver.log" >&2; exit 1
    fi
  done
  if ((SECONDS > deadline)); then
    log "timed out"; tail -n 30 "$work/apiserver.log" >&2; exit 1
  fi
  sleep 0.2
done
log "ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"

# --- kube-controller-manager --------------------------------------------------
# The controllers that finalize namespaces and collect garbage, each acting as its
# own service account in kube-system (as kubeadm runs them).
kcm_port="$(free_port)"
t0=$(date +%s.%N)
"$BIN/kube-controller-manager" \
  --kubeconfig="$work/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 \
  --secure-port="$kcm_port" \
  --tls-cert-file="$pki/kcm.crt" \
  --tls-private-key-file="$pki/kcm.key" \
  --controllers=serviceaccount-token-controller,serviceaccount-controller,namespace-controller,garbage-collector-controller,root-ca-certificate-publisher-controller \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" \
  --root-ca-file="$pki/ca.crt" \
  --leader-elect=false \
  --v=1 \
  >"$work/controller-manager.log" 2>&1 &
pids+=($!)
log "kube-controller-manager https://127.0.0.1:$kcm_port, waiting for /healthz and the default ServiceAccount ..."
deadline=$((SECONDS + 120))
until [[ "$(curl -s --cacert "$pki/ca.crt" "https://127.0.0.1:$kcm_port/healthz" || true)" == ok ]] &&
  "$KUBECTL" --kubeconfig "$work/kubeconfig" get serviceaccount default -n default >/dev/null 2>&1; do
  if ! kill -0 "${pids[-1]}" 2>/dev/null; then
    log "kube-controller-manager died; log:"; tail -n 30 "$work/controller-manager.log" >&2; exit 1
  fi
  if ((SECONDS > deadline)); then
    log "timed out"; tail -n 30 "$work/controller-manager.log" >&2; exit 1
  fi
  sleep 0.2
done
log "controller manager ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"

"$KUBECTL" --kubeconfig "$work/kubeconfig" version 2>&1 | grep -v '^WARNING' >&2 || true
"$KUBECTL" --kubeconfig "$work/kubeconfig" get ns

# Optional: run a command against the live cluster, e.g.
#   test/k8s/smoke.sh bash -c 'kubectl get --raw /version'
# with KUBECONFIG and K8S_PKI (ca.crt/ca.key for signing webhook certs) set.
if (($#)); then
  KUBECONFIG="$work/kubeconfig" K8S_PKI="$pki" "$@"
fi
log "ok"
