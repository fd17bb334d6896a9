#!/usr/bin/env bash
# node.sh - add, remove, or change the health of a simulated (kwok) GPU node of a cluster
# started by start.sh. Tests use it (through scripts/k8s.mjs) to change the cluster under a
# driver at run time.
#
#   node.sh add NAME [--gpus N] [--product P] [--label k=v]... [--cpu N] [--memory Q] [--no-wait]
#       Creates a Node object with the annotation kwok.x-k8s.io/node=fake. kwok manages only the
#       nodes with that annotation (--manage-nodes-with-annotation-selector), so from this object
#       alone it makes the node Ready, holds its Lease and runs the pods scheduled to it.
#       Waits until the node is Ready unless --no-wait.
#   node.sh remove NAME
#       Deletes the Node object. Its pods stay (bound to a node that no longer exists) until the
#       controller-manager's pod garbage collector force-deletes them, ~40-60 s later.
#   node.sh not-ready NAME
#       Sets the annotation opencompshare.io/kwok-not-ready=true. Our kwok stage (see
#       kwok-stages.yaml) then sets the node's Ready condition to False, like a kubelet reporting
#       NotReady; the controller-manager taints it node.kubernetes.io/not-ready (NoSchedule at
#       once; NoExecute within ~5 s, which evicts pods after their 300 s default toleration).
#       Patching the Ready condition directly does NOT work: kwok sets it back to True at once.
#   node.sh ready NAME
#       Removes that annotation; kwok makes the node Ready again and the taints go.
#   node.sh manifest NAME [options of add]
#       Prints the Node object only (start.sh creates its initial nodes from these).
#
# The cluster: --run-dir DIR before the command, or $OCS_K8S_RUN_DIR, or the cache's last-run.
# Defaults for add: the OCS_K8S_GPUS_PER_NODE, OCS_K8S_GPU_PRODUCT, OCS_K8S_NODE_LABELS,
# OCS_K8S_NODE_CPU and OCS_K8S_NODE_MEMORY knobs described in start.sh, as the cluster was
# started with them (RUN_DIR/node-defaults). --label adds to OCS_K8S_NODE_LABELS; a key may not
# appear twice.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUN=${OCS_K8S_RUN_DIR:-}
if [ "${1:-}" = --run-dir ]; then RUN=$2; shift 2; fi
[ -n "$RUN" ] || RUN=$(readlink "$OCS_K8S_CACHE/last-run" 2>/dev/null || true)
# the node defaults of the cluster's start (start.sh writes them), so that a node added later
# looks like the first ones unless told otherwise
[ -n "$RUN" ] && [ -f "$RUN/node-defaults" ] && . "$RUN/node-defaults"
CMD=${1:-}; NAME=${2:-}
[ -n "$CMD" ] && [ -n "$NAME" ] || die "usage: node.sh [--run-dir DIR] add|remove|not-ready|ready|manifest NAME [options]"
shift 2
# the annotation our kwok stage reacts to; keep in sync with kwok-stages.yaml
NOT_READY=opencompshare.io/kwok-not-ready

kc() {
  [ -f "$RUN/kubeconfig" ] || die "no cluster in ${RUN:-(unset)}: start one with start.sh"
  "$BIN/kubectl" --kubeconfig "$RUN/kubeconfig" "$@"
}

manifest() { # NAME, then the options of add
  local name=$1; shift
  local gpus=${OCS_K8S_GPUS_PER_NODE:-8} product=${OCS_K8S_GPU_PRODUCT:-NVIDIA-H100-80GB-HBM3}
  local cpu=${OCS_K8S_NODE_CPU:-64} memory=${OCS_K8S_NODE_MEMORY:-512Gi} labels=() l
  IFS=, read -r -a labels <<< "${OCS_K8S_NODE_LABELS:-}"
  while [ $# -gt 0 ]; do
    case $1 in
      --gpus) gpus=$2; shift 2 ;;
      --product) product=$2; shift 2 ;;
      --label) labels+=("$2"); shift 2 ;;
      --cpu) cpu=$2; shift 2 ;;
      --memory) memory=$2; shift 2 ;;
      --no-wait) shift ;;
      *) die "unknown option $1" ;;
    esac
  done
  # Labels as the NVIDIA GPU feature discovery would set them on a real GPU node, so a driver can
  # select nodes by product. status.capacity/allocatable are given at creation: kwok's
  # node-initialize stage keeps what the object has, and nvidia.com/gpu is how the scheduler
  # counts GPUs (a real node gets it from the NVIDIA device plugin).
  cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: "$name"
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node.kubernetes.io/instance-type: "fake-gpu-x$gpus"
    nvidia.com/gpu.present: "$([ "$gpus" -gt 0 ] && echo true || echo false)"
    nvidia.com/gpu.count: "$gpus"
    nvidia.com/gpu.product: "$product"
YAML
  for l in ${labels[@]+"${labels[@]}"}; do
    [ -n "$l" ] || continue
    case $l in *=*) ;; *) die "label '$l' is not key=value" ;; esac
    printf '    %s: "%s"\n' "${l%%=*}" "${l#*=}"
  done
  # Both addresses from the start, as a kubelet reports them: kwok's node-initialize stage adds
  # those missing, but when it has nothing to add (no Hostname of its own) it writes an empty
  # list, so a node made Ready again (node.sh ready) would lose its InternalIP.
  cat <<YAML
status:
  addresses: [{type: InternalIP, address: "127.0.0.1"}, {type: Hostname, address: "$name"}]
  allocatable: {cpu: "$cpu", memory: "$memory", ephemeral-storage: 1Ti, pods: "110", nvidia.com/gpu: "$gpus"}
  capacity: {cpu: "$cpu", memory: "$memory", ephemeral-storage: 1Ti, pods: "110", nvidia.com/gpu: "$gpus"}
YAML
}

wait_ready() { # NAME: Ready status wanted (True/False)
  local deadline=$((SECONDS + ${OCS_K8S_START_TIMEOUT:-60})) s
  while :; do
    s=$(kc get node "$NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
    [ "$s" = "$1" ] && return 0
    [ $SECONDS -lt $deadline ] || die "node $NAME not Ready=$1 (is $s) after ${OCS_K8S_START_TIMEOUT:-60}s"
    sleep 0.1
  done
}

case $CMD in
  manifest) manifest "$NAME" "$@" ;;
  add)
    manifest "$NAME" "$@" | kc create -f - >&2
    case " $* " in *" --no-wait "*) ;; *) wait_ready True ;; esac ;;
  remove) kc delete node "$NAME" --wait=true >&2 ;;
  not-ready) kc annotate --overwrite node "$NAME" "$NOT_READY=true" >&2; wait_ready False ;;
  ready) kc annotate node "$NAME" "$NOT_READY-" >&2; wait_ready True ;;
  *) die "unknown command $CMD" ;;
esac
