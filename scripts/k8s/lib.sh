# lib.sh - sourced by build.sh, start.sh and stop.sh; not run on its own.
# Versions, cache layout and small helpers shared by the test-cluster scripts.
# shellcheck disable=SC2034  # the variables are used by the scripts that source this

# The cache holds the built binaries and the wrapper go.mod files. It is outside the repository
# on purpose: a cold build takes minutes and ~5 GB of Go build cache, and every worktree or clone
# of the project on a machine can share the result.
OCS_K8S_CACHE=${OCS_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/opencompshare/k8s}

# Pinned versions. k8s.io/kubernetes is not meant to be used as a module: its go.mod replaces
# every k8s.io/* staging module with ./staging/..., so we require it from a wrapper module that
# replaces those with the published v0.X.Y tags instead. Some tags are refused by the Go module
# proxy (v1.36.6 and v1.35.10 were), so change these only after trying the build.
OCS_K8S_VERSION=${OCS_K8S_VERSION:-v1.37.2}
OCS_K8S_ETCD_VERSION=${OCS_K8S_ETCD_VERSION:-v3.7.3}
OCS_K8S_KWOK_VERSION=${OCS_K8S_KWOK_VERSION:-v0.8.0}
# The CSI external-snapshotter's client module carries the VolumeSnapshot CRDs (start.sh installs
# them when OCS_K8S_SNAPSHOTS=1).
OCS_K8S_SNAPSHOTTER_VERSION=${OCS_K8S_SNAPSHOTTER_VERSION:-v8.7.0}

# Bump when the way a binary is built changes (flags, stage files, ...), so that a cached binary
# built the old way is rebuilt. The stamp next to each binary is "<version> <recipe>".
OCS_K8S_RECIPE=r1

BIN=$OCS_K8S_CACHE/bin
SRC=$OCS_K8S_CACHE/src

log() { echo "[k8s $(date +%H:%M:%S.%3N)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
