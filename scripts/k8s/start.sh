#!/usr/bin/env bash
# start.sh - start a throw-away Kubernetes control plane on 127.0.0.1 for tests: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler and kwok with simulated GPU nodes
# (pods scheduled to them reach Running; nothing is really run). Builds the binaries first when
# the cache lacks them (build.sh). Nothing listens on anything but 127.0.0.1; every port is
# picked free at start, so several clusters can run side by side.
#
# On success the LAST lines of stdout are shell-sourceable (also in $OCS_K8S_RUN_DIR/env):
#   OCS_K8S_RUN_DIR=/tmp/ocs-k8s.XXXXXX   run dir: logs, pki, etcd data, pids
#   KUBECONFIG=$OCS_K8S_RUN_DIR/kubeconfig   admin (system:masters) client certificate
#   OCS_K8S_API_URL=https://127.0.0.1:PORT
#   OCS_K8S_TOKEN=...  OCS_K8S_CA=...pki/ca.crt  OCS_K8S_KUBECTL=...  OCS_K8S_ETCD_URL=...
# Stop it with stop.sh "$OCS_K8S_RUN_DIR". Logs go to stderr and $OCS_K8S_RUN_DIR/*.log.
#
# Knobs (environment, defaults in brackets):
#   OCS_K8S_COMPONENTS     what runs besides etcd + kube-apiserver
#                          [kube-controller-manager kube-scheduler kwok]; "" = API server only
#   OCS_K8S_NODES          number of simulated GPU nodes, named ${OCS_K8S_NODE_PREFIX}0.. [2]
#   OCS_K8S_NODE_PREFIX    [gpu-node-]
#   OCS_K8S_GPUS_PER_NODE  nvidia.com/gpu capacity of each node [8]
#   OCS_K8S_GPU_PRODUCT    the nvidia.com/gpu.product label [NVIDIA-H100-80GB-HBM3]
#   OCS_K8S_NODE_LABELS    extra node labels, k=v,k=v (e.g. opencompshare.io/gpu-type=h100) []
#   OCS_K8S_NODE_CPU, OCS_K8S_NODE_MEMORY   node capacity [64, 512Gi]
#   OCS_K8S_SNAPSHOTS      1: install the VolumeSnapshot CRDs, and a kwok stage that makes each
#                          VolumeSnapshot ready as a CSI snapshotter would (no data is copied) [0]
#   OCS_K8S_TMPDIR         parent of the run dir [${TMPDIR:-/tmp}] (/dev/shm is a bit faster)
#   OCS_K8S_START_TIMEOUT  seconds to wait for each component [120]
#   OCS_K8S_OWNER_PID      stop the cluster by itself once this process is gone (a test runner
#                          that crashes or is interrupted leaves nothing running) []
#   OCS_K8S_APISERVER_ARGS, OCS_K8S_CONTROLLER_MANAGER_ARGS, OCS_K8S_SCHEDULER_ARGS
#                          extra flags, word-split []
#   OCS_K8S_CACHE, OCS_K8S_*_VERSION   see lib.sh
# Nodes can be added, removed or made NotReady while it runs: see node.sh.
# shellcheck disable=SC2086  # the OCS_K8S_*_ARGS knobs are word-split into flags on purpose
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

COMPONENTS=${OCS_K8S_COMPONENTS-kube-controller-manager kube-scheduler kwok}
NODES=${OCS_K8S_NODES:-2}
TIMEOUT=${OCS_K8S_START_TIMEOUT:-120}
has() { case " $COMPONENTS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

ensure_tools() { # openssl for the PKI, curl for health checks, ss (iproute2) for free ports
  local missing=()
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  command -v ss >/dev/null || missing+=(iproute2)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing tools: ${missing[*]} (apt-get install ${missing[*]})"
  log "apt-get install ${missing[*]}"
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

USED_PORTS=" "
free_port() { # VAR: set VAR to a free port (no subshell, so USED_PORTS remembers what was handed out)
  # A random port BELOW the kernel's ephemeral range: a port picked inside it can be taken, between
  # the check and the bind, as the local port of some outgoing connection (the API server alone
  # opens dozens to etcd), and the component then dies with "address already in use". ss sees
  # ports in every TCP state, TIME_WAIT included, which a test bind() would not.
  local p lo
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 12000 ] || lo=32768
  for _ in $(seq 1 500); do
    p=$(((RANDOM * 32768 + RANDOM) % (lo - 11000) + 10000))
    case $USED_PORTS in *" $p "*) continue ;; esac
    if ! ss -Htan "( sport = :$p )" 2>/dev/null | grep -q .; then
      USED_PORTS="$USED_PORTS$p "; printf -v "$1" %s "$p"; return 0
    fi
  done
  die "no free port"
}

start_proc() { # NAME ARGS...: start a cached binary in the background, log to the run dir
  local name=$1; shift
  # etcd reads every ETCD_* environment variable as a flag: what a CI image or a developer's shell
  # exports for another etcd (ETCD_CLIENT_CERT_AUTH, ETCD_LISTEN_METRICS_URLS, ETCD_DATA_DIR for
  # the flags we leave out, ...) would change ours. Start everything without them.
  # stdin/stdout/stderr are detached, so a caller reading our output is not held open by them.
  # shellcheck disable=SC2046  # one "-u NAME" pair per word, on purpose
  env $(env | sed -n 's/^\(ETCD_[A-Za-z0-9_]*\)=.*/-u \1/p') "$BIN/$name" "$@" \
    < /dev/null > "$RUN/$name.log" 2>&1 &
  echo $! > "$RUN/pids/$name.pid"
  echo "$name" >> "$RUN/pids/order"
}

wait_for() { # NAME COMMAND...: poll COMMAND until it succeeds; fail when NAME exits or times out
  local name=$1; shift
  local deadline=$((SECONDS + TIMEOUT)) pid
  pid=$(cat "$RUN/pids/$name.pid")
  until "$@" > /dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { tail -30 "$RUN/$name.log" >&2; die "$name exited (log: $RUN/$name.log)"; }
    [ $SECONDS -lt $deadline ] || { tail -30 "$RUN/$name.log" >&2; die "$name not ready after ${TIMEOUT}s"; }
    sleep 0.1
  done
}

gen_pki() { # one CA signs the API server's serving certificate and an admin client certificate
  local p=$RUN/pki; mkdir -p "$p"
  (
    cd "$p"
    # EC keys: generating them takes milliseconds, RSA ones noticeably longer
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
      -days 3650 -subj "/CN=opencompshare-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    mk() { # NAME SUBJECT EXTENSIONS
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" \
        -subj "$2" 2>/dev/null
      printf '%b' "$3" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -out "$1.crt" \
        -extfile "$1.ext" 2>/dev/null
    }
    # the names and the first service IP of 10.0.0.0/24 are what in-cluster clients would use
    mk apiserver "/CN=kube-apiserver" "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
    # O=system:masters: the group the API server always authorizes for everything
    mk admin "/O=system:masters/CN=opencompshare-test-admin" \
      "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
    # service account tokens are signed with RSA (the controller-manager's token controller)
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # a static bearer token too, for clients that would rather not hold a client certificate
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > token
    echo "$(cat token),opencompshare-test-admin,opencompshare-test-admin,system:masters" > tokens.csv
  )
}

write_kubeconfig() {
  cat > "$RUN/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: opencompshare-test
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 < "$RUN/pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 < "$RUN/pki/admin.crt")
    client-key-data: $(base64 -w0 < "$RUN/pki/admin.key")
contexts:
- name: opencompshare-test
  context: {cluster: opencompshare-test, user: admin}
current-context: opencompshare-test
YAML
  chmod 600 "$RUN/kubeconfig"
}

kwok_config() {
  # kwok applies its built-in option defaults only when it gets NO configuration file; with one,
  # every option left out is zero (parallelism 0 makes it refuse to start). So spell them out.
  cat <<'YAML'
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: 4
  nodePlayStageParallelism: 4
  nodeLeaseParallelism: 4
  nodeLeaseDurationSeconds: 40
  podsOnNodeSyncParallelism: 1
  enablePodsOnNodeSyncListPager: true
  enablePodsOnNodeSyncStreamWatch: false
  enableDebuggingHandlers: false
  enableProfilingHandler: false
  enableContentionProfiling: false
YAML
  # upstream's stages (cached by build.sh), the two node stages told to leave alone the nodes a
  # test made NotReady, and our stage that makes them so (see kwok-stages.yaml)
  awk '
    /^  name: (node-initialize|node-heartbeat-with-lease)$/ { node = 1 }
    node && /^    matchExpressions:$/ {
      print
      print "    - key: '\''.metadata.annotations[\"opencompshare.io/kwok-not-ready\"]'\''"
      print "      operator: '\''DoesNotExist'\''"
      node = 0; n++; next
    }
    { print }
    END { if (n != 2) { print "kwok stages: expected 2 node stages to amend, found " n > "/dev/stderr"; exit 1 } }
  ' "$BIN/kwok-stages-$OCS_K8S_KWOK_VERSION.yaml"
  echo '---'
  cat "$HERE/kwok-stages.yaml"
  if [ "${OCS_K8S_SNAPSHOTS:-0}" = 1 ]; then echo '---'; cat "$HERE/kwok-snapshot-stage.yaml"; fi
}

cleanup_on_failure() {
  if [ -n "${RUN:-}" ] && [ ! -f "$RUN/ready" ]; then "$HERE/stop.sh" "$RUN" >&2 || true; fi
}

main() {
  ensure_tools
  "$HERE/build.sh" > /dev/null
  local T0; T0=$(date +%s.%N)
  mkdir -p "$OCS_K8S_CACHE"
  RUN=$(mktemp -d "${OCS_K8S_TMPDIR:-${TMPDIR:-/tmp}}/ocs-k8s.XXXXXX")
  mkdir -p "$RUN/pids"
  trap cleanup_on_failure EXIT
  ln -sfn "$RUN" "$OCS_K8S_CACHE/last-run"
  gen_pki
  free_port ETCD_PORT; free_port ETCD_PEER; free_port API_PORT; free_port KCM_PORT; free_port SCHED_PORT
  write_kubeconfig
  local v
  for v in OCS_K8S_GPUS_PER_NODE OCS_K8S_GPU_PRODUCT OCS_K8S_NODE_LABELS OCS_K8S_NODE_CPU OCS_K8S_NODE_MEMORY; do
    if [ -n "${!v:-}" ]; then printf '%s=%q\n' "$v" "${!v}"; fi
  done > "$RUN/node-defaults"
  local kc=("$BIN/kubectl" --kubeconfig "$RUN/kubeconfig")
  local api="https://127.0.0.1:$API_PORT" auth
  auth="Authorization: Bearer $(cat "$RUN/pki/token")"

  if [ -n "${OCS_K8S_OWNER_PID:-}" ]; then
    # a watchdog: stops the cluster once the owner is gone, ends by itself once stop.sh ran
    # (stop.sh writes $RUN/stopping). Signals to the owner's terminal do not reach it.
    (
      trap '' INT HUP
      live() { [ -d "$RUN/pids" ] && [ ! -e "$RUN/stopping" ]; }
      while live && kill -0 "$OCS_K8S_OWNER_PID" 2>/dev/null; do sleep 1; done
      if live; then "$HERE/stop.sh" "$RUN"; fi
    ) < /dev/null > /dev/null 2>&1 &
  fi

  # --unsafe-no-fsync: the data is thrown away anyway; fsync on a busy CI disk costs seconds
  start_proc etcd --name=test --data-dir="$RUN/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER" \
    --initial-cluster="test=http://127.0.0.1:$ETCD_PEER" \
    --unsafe-no-fsync --log-level=warn
  wait_for etcd curl -sf "http://127.0.0.1:$ETCD_PORT/health"
  log "etcd ready"

  local extra=()
  # without the controller-manager nobody creates ServiceAccounts, and the ServiceAccount admission
  # plugin would reject every pod for lacking "default"
  has kube-controller-manager || extra+=(--disable-admission-plugins=ServiceAccount)
  # --endpoint-reconciler-type=none: the default reconciler publishes the advertise address in the
  #   "kubernetes" Endpoints, and refuses a loopback one (the API server fails to start).
  # --kubelet-preferred-address-types=InternalIP: kwok's nodes report 127.0.0.1, so any
  #   apiserver->"kubelet" call (logs, exec) stays on loopback and fails fast instead of resolving
  #   a made-up host name.
  start_proc kube-apiserver --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --endpoint-reconciler-type=none \
    --tls-cert-file="$RUN/pki/apiserver.crt" --tls-private-key-file="$RUN/pki/apiserver.key" \
    --client-ca-file="$RUN/pki/ca.crt" --token-auth-file="$RUN/pki/tokens.csv" \
    --kubelet-client-certificate="$RUN/pki/admin.crt" --kubelet-client-key="$RUN/pki/admin.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$RUN/pki/sa.pub" --service-account-signing-key-file="$RUN/pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --authorization-mode=RBAC --allow-privileged=true \
    ${extra[@]+"${extra[@]}"} ${OCS_K8S_APISERVER_ARGS:-}
  wait_for kube-apiserver curl -sf --cacert "$RUN/pki/ca.crt" -H "$auth" "$api/readyz"
  log "kube-apiserver ready"

  # --leader-elect=false: one instance, no Lease round-trips before it starts working.
  # --secure-port is a free one: the defaults (10257, 10259) clash with a second cluster.
  if has kube-controller-manager; then
    start_proc kube-controller-manager --kubeconfig="$RUN/kubeconfig" \
      --authentication-kubeconfig="$RUN/kubeconfig" --authorization-kubeconfig="$RUN/kubeconfig" \
      --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
      --service-account-private-key-file="$RUN/pki/sa.key" --root-ca-file="$RUN/pki/ca.crt" \
      --cluster-signing-cert-file="$RUN/pki/ca.crt" --cluster-signing-key-file="$RUN/pki/ca.key" \
      --use-service-account-credentials=false --controllers='*' ${OCS_K8S_CONTROLLER_MANAGER_ARGS:-}
  fi
  if has kube-scheduler; then
    start_proc kube-scheduler --kubeconfig="$RUN/kubeconfig" \
      --authentication-kubeconfig="$RUN/kubeconfig" --authorization-kubeconfig="$RUN/kubeconfig" \
      --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --leader-elect=false ${OCS_K8S_SCHEDULER_ARGS:-}
  fi
  if [ "${OCS_K8S_SNAPSHOTS:-0}" = 1 ]; then
    # Before kwok starts: it maps a stage's kind to a resource once, at start.
    "${kc[@]}" apply -f "$BIN/snapshot-crds-$OCS_K8S_SNAPSHOTTER_VERSION.yaml" >&2
    wait_for kube-apiserver "${kc[@]}" wait --for=condition=Established --timeout=2s \
      crd/volumesnapshots.snapshot.storage.k8s.io crd/volumesnapshotclasses.snapshot.storage.k8s.io
    # kwok reads the group's OpenAPI schema at start, which the API server publishes a moment after
    # the CRDs are Established
    wait_for kube-apiserver sh -c "curl -sf --cacert '$RUN/pki/ca.crt' -H '$auth' '$api/openapi/v3' |
      grep -q 'apis/snapshot.storage.k8s.io/v1'"
    log "VolumeSnapshot CRDs installed"
  fi
  if has kwok; then
    kwok_config > "$RUN/kwok.yaml"
    # only nodes annotated kwok.x-k8s.io/node=fake are kwok's (a real node could join the same
    # cluster); --node-ip=127.0.0.1 is the InternalIP the nodes report; --cidr the pod IPs'.
    # kwok listens nowhere: its server starts only with a server address or node port, and our
    # configuration has neither.
    start_proc kwok --kubeconfig="$RUN/kubeconfig" --config="$RUN/kwok.yaml" \
      --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
      --node-ip=127.0.0.1 --cidr=10.2.0.0/16
  fi
  has kube-controller-manager && wait_for kube-controller-manager curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
  has kube-scheduler && wait_for kube-scheduler curl -skf "https://127.0.0.1:$SCHED_PORT/healthz"
  log "controller-manager and scheduler healthy"
  if has kwok; then
    # kwok's StorageClass: its volume stages provision and bind PVs for PVCs of that class
    "${kc[@]}" create -f "$BIN/kwok-storage-class-$OCS_K8S_KWOK_VERSION.yaml" >&2
    if [ "$NODES" -gt 0 ]; then
      for i in $(seq 0 $((NODES - 1))); do
        OCS_K8S_RUN_DIR=$RUN "$HERE/node.sh" manifest "${OCS_K8S_NODE_PREFIX:-gpu-node-}$i"
      done | "${kc[@]}" create -f - >&2
      wait_for kwok "${kc[@]}" wait --for=condition=Ready node --all --timeout=2s
      log "$NODES node(s) Ready"
    fi
  fi
  # pods need the namespace's "default" ServiceAccount, which the controller-manager creates
  has kube-controller-manager &&
    wait_for kube-controller-manager curl -sf --cacert "$RUN/pki/ca.crt" -H "$auth" \
      "$api/api/v1/namespaces/default/serviceaccounts/default"

  cat > "$RUN/env" <<ENV
OCS_K8S_RUN_DIR=$RUN
KUBECONFIG=$RUN/kubeconfig
OCS_K8S_API_URL=$api
OCS_K8S_TOKEN=$(cat "$RUN/pki/token")
OCS_K8S_CA=$RUN/pki/ca.crt
OCS_K8S_KUBECTL=$BIN/kubectl
OCS_K8S_ETCD_URL=http://127.0.0.1:$ETCD_PORT
ENV
  touch "$RUN/ready"
  local rss=0 kb n
  for n in $(cat "$RUN/pids/order"); do
    kb=$(awk '/VmRSS/{print $2}' "/proc/$(cat "$RUN/pids/$n.pid")/status" 2>/dev/null || echo 0)
    rss=$((rss + kb))
  done
  log "cluster ready in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s" \
    "(etcd kube-apiserver${COMPONENTS:+ $COMPONENTS}; $(has kwok && echo "$NODES" || echo 0) node(s);" \
    "RSS $((rss / 1024)) MiB; run dir $RUN)"
  cat "$RUN/env"
}
main "$@"
