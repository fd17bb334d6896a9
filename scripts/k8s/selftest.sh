#!/usr/bin/env bash
# selftest.sh - a by-hand check of the test cluster (not part of npm test): starts one, and with
# the kubectl built alongside checks the GPU nodes, schedules a GPU pod to Running, adds, makes
# NotReady/Ready and removes a node, then stops it and times a second (warm) start.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
say() { echo "== $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
RUN=
export OCS_K8S_OWNER_PID=$$   # a cluster this script fails to stop stops itself once it is gone
trap '[ -n "$RUN" ] && "$HERE/stop.sh" "$RUN"' EXIT

t=$(now); "$HERE/build.sh" > /dev/null; say "build.sh: $(since "$t")s"
t=$(now); eval "$("$HERE/start.sh" | grep -E '^[A-Z][A-Z0-9_]*=')"; RUN=$OCS_K8S_RUN_DIR
say "first start: $(since "$t")s"
kc() { "$OCS_K8S_KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }
gpus() { kc get node "$1" -o 'jsonpath={.status.allocatable.nvidia\.com/gpu}'; }
ready() { kc get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'; }
taints() { kc get node "$1" -o 'jsonpath={.spec.taints[*].key}'; }
tainted() { case " $(taints "$1") " in *" node.kubernetes.io/not-ready "*) return 0 ;; *) return 1 ;; esac; }
untainted() { ! tainted "$1"; }
eventually() { # DESC SECONDS COMMAND...: poll until COMMAND succeeds
  local d=$1 deadline=$((SECONDS + $2)); shift 2
  until "$@"; do [ $SECONDS -lt $deadline ] || { echo "FAIL: $d" >&2; exit 1; }; sleep 0.2; done
}
want() { [ "$2" = "$3" ] || { echo "FAIL: $1: want '$3', got '$2'" >&2; exit 1; }; }

kc version
kc get nodes -L nvidia.com/gpu.product -L nvidia.com/gpu.count
want "nodes" "$(kc get nodes -o name | wc -l)" 2
for n in gpu-node-0 gpu-node-1; do want "$n GPUs" "$(gpus $n)" 8; want "$n Ready" "$(ready $n)" True; done

say "a pod asking for nvidia.com/gpu: 1"
t=$(now)
kc create -f - <<YAML
apiVersion: v1
kind: Pod
metadata: {name: gpu-pod}
spec:
  containers:
  - name: main
    image: busybox
    resources: {limits: {nvidia.com/gpu: 1}}
YAML
kc wait --for=jsonpath='{.status.phase}'=Running pod/gpu-pod --timeout=60s
say "Running after $(since "$t")s"
kc get pod gpu-pod -o wide
kc describe node "$(kc get pod gpu-pod -o jsonpath='{.spec.nodeName}')" | grep -A8 'Allocated resources'
kc delete pod gpu-pod --wait=true
want "pods left" "$(kc get pods -o name)" ""

say "add a node with 4 GPUs and its own labels"
"$HERE/node.sh" --run-dir "$RUN" add gpu-node-9 --gpus 4 --product NVIDIA-A100-SXM4-80GB \
  --label opencompshare.io/gpu-type=a100
want "gpu-node-9 GPUs" "$(gpus gpu-node-9)" 4; want "gpu-node-9 Ready" "$(ready gpu-node-9)" True
kc get node gpu-node-9 --show-labels

say "make gpu-node-0 NotReady"
t=$(now)
"$HERE/node.sh" --run-dir "$RUN" not-ready gpu-node-0
say "Ready=False after $(since "$t")s"
eventually "not-ready taint on gpu-node-0" 30 tainted gpu-node-0
say "tainted $(taints gpu-node-0) after $(since "$t")s"
sleep 2   # kwok must not set it back
want "gpu-node-0 Ready" "$(ready gpu-node-0)" False
say "an 8-GPU pod must go to gpu-node-1 (gpu-node-0 is NotReady, gpu-node-9 has 4 GPUs)"
kc create -f - <<YAML
apiVersion: v1
kind: Pod
metadata: {name: big-pod}
spec:
  containers:
  - name: main
    image: busybox
    resources: {limits: {nvidia.com/gpu: 8}}
YAML
kc wait --for=jsonpath='{.status.phase}'=Running pod/big-pod --timeout=30s
want "big-pod node" "$(kc get pod big-pod -o jsonpath='{.spec.nodeName}')" gpu-node-1
kc delete pod big-pod --wait=true

say "and Ready again"
t=$(now)
"$HERE/node.sh" --run-dir "$RUN" ready gpu-node-0
say "Ready=True after $(since "$t")s"
eventually "taint gone from gpu-node-0" 30 untainted gpu-node-0
say "untainted after $(since "$t")s"

say "remove gpu-node-9"
"$HERE/node.sh" --run-dir "$RUN" remove gpu-node-9
kc get nodes

t=$(now); "$HERE/stop.sh" "$RUN"; RUN=; say "stop: $(since "$t")s"
t=$(now); eval "$("$HERE/start.sh" | grep -E '^[A-Z][A-Z0-9_]*=')"; RUN=$OCS_K8S_RUN_DIR
say "warm start: $(since "$t")s"
kc get nodes
t=$(now); "$HERE/stop.sh" "$RUN"; RUN=; say "stop: $(since "$t")s"
say "OK"
