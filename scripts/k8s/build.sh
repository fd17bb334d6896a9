#!/usr/bin/env bash
# build.sh - build (once) the binaries of the test Kubernetes control plane into the cache:
#   kube-apiserver kube-controller-manager kube-scheduler kubectl   (k8s.io/kubernetes)
#   etcd                                                            (go.etcd.io/etcd)
#   kwok + its simulation stages                                    (sigs.k8s.io/kwok)
# Everything is compiled from source with `go`; the only network it needs is the Go module proxy.
# No prebuilt release binaries are downloaded (none can be on the machines this runs on).
#
# A binary whose stamp matches the wanted version is left alone, so a second run takes
# no time; with a warm Go build cache but deleted binaries it relinks in ~10 s; cold it takes
# ~8 min on 2 cores, ~3 GB peak memory and ~5 GB of Go build cache.
#
# Usage: build.sh            (knobs: see lib.sh - OCS_K8S_CACHE, OCS_K8S_*_VERSION)
# Prints the bin directory on stdout when done; exits 3 when go is needed but not installed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

stamp() { echo "$1 $OCS_K8S_RECIPE"; }
stamp_ok() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.stamp" 2>/dev/null)" = "$(stamp "$2")" ]; }

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  # the official tarball's location, often not on PATH in non-login shells
  [ -x /usr/local/go/bin/go ] && { echo /usr/local/go/bin/go; return; }
  # exit status 3 tells scripts/k8s.mjs that go is what is missing
  log "ERROR: go is not installed (it is needed once, to build the Kubernetes binaries from source: Go >= 1.26, or an older go with GOTOOLCHAIN=auto, which fetches 1.26 through the module proxy; https://go.dev/dl)"
  exit 3
}

build_k8s() {
  local want=() c
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    stamp_ok "$c" "$OCS_K8S_VERSION" || want+=("$c")
  done
  [ ${#want[@]} -eq 0 ] && return 0
  local GO; GO=$(find_go)
  # staging modules are published as v0.<minor>.<patch> for kubernetes v1.<minor>.<patch>
  local d=$SRC/kubernetes-$OCS_K8S_VERSION S="v0.${OCS_K8S_VERSION#v1.}"
  mkdir -p "$d" "$BIN"
  if [ ! -f "$d/go.sum" ]; then
    log "preparing a wrapper module for k8s.io/kubernetes $OCS_K8S_VERSION (staging modules -> $S)"
    local gomod
    gomod=$(cd "$d" && GOFLAGS=-mod=mod "$GO" mod download -json "k8s.io/kubernetes@$OCS_K8S_VERSION" |
      sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
    [ -f "$gomod" ] || die "cannot download k8s.io/kubernetes@$OCS_K8S_VERSION from the Go module proxy"
    {
      # same go directive and godebug settings as upstream, so the binaries behave like releases
      printf 'module ocsk8sbins\n\ngo %s\n\n' "$(sed -n 's/^go \(.*\)/\1/p' "$gomod")"
      grep '^godebug' "$gomod" || true
      printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$OCS_K8S_VERSION"
      # each "k8s.io/x => ./staging/src/k8s.io/x" that upstream also requires (as v0.0.0)
      # becomes "k8s.io/x => k8s.io/x v0.N.M"; replaces in a dependency's go.mod are ignored,
      # so without these the build would look for the non-existent v0.0.0 versions.
      grep -E '^\s+k8s.io/[a-z0-9-]+ => \./staging/' "$gomod" | awk '{print $1}' | while read -r m; do
        grep -qE "^\s+$m v0.0.0" "$gomod" && printf '\t%s => %s %s\n' "$m" "$m" "$S"
      done
      printf ')\n'
    } > "$d/go.mod.new"
    mv "$d/go.mod.new" "$d/go.mod"
    (cd "$d" && "$GO" get "k8s.io/kubernetes/cmd/kube-apiserver@$OCS_K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@$OCS_K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kube-scheduler@$OCS_K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kubectl@$OCS_K8S_VERSION" >&2)
  fi
  # A module build has no git tree to stamp versions from; without these the components report
  # v0.0.0, and kubectl warns about / clients mis-detect the server version.
  local minor=${OCS_K8S_VERSION#v1.}; minor=${minor%%.*}
  local v=k8s.io/component-base/version cv=k8s.io/client-go/pkg/version
  local ldf="-s -w -X $v.gitVersion=$OCS_K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor"
  ldf+=" -X $v.gitTreeState=clean -X $cv.gitVersion=$OCS_K8S_VERSION -X $cv.gitMajor=1 -X $cv.gitMinor=$minor"
  local pkgs=() t0=$SECONDS
  for c in "${want[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  log "go build ${want[*]} (cold: ~8 min on 2 cores; with a warm Go build cache: seconds)"
  # build into a temp dir and move: an interrupted build never leaves a half-written binary
  local tmp; tmp=$(mktemp -d "$BIN/.build.XXXXXX")
  (cd "$d" && "$GO" build -trimpath -ldflags "$ldf" -o "$tmp/" "${pkgs[@]}" >&2)
  for c in "${want[@]}"; do mv -f "$tmp/$c" "$BIN/$c"; stamp "$OCS_K8S_VERSION" > "$BIN/.$c.stamp"; done
  rmdir "$tmp"
  log "built ${want[*]} in $((SECONDS - t0))s"
}

build_etcd() {
  stamp_ok etcd "$OCS_K8S_ETCD_VERSION" && return 0
  local GO; GO=$(find_go)
  local d=$SRC/etcd-$OCS_K8S_ETCD_VERSION t0=$SECONDS
  mkdir -p "$d" "$BIN"
  if [ ! -f "$d/go.sum" ]; then
    # go.etcd.io/etcd/server/v3 has ./ replace directives, so `go install pkg@version` refuses it;
    # require it and its sibling modules at the same version from a wrapper module instead.
    printf 'module ocsetcdbin\n\ngo 1.24\n' > "$d/go.mod"
    (cd "$d" && "$GO" get "go.etcd.io/etcd/server/v3@$OCS_K8S_ETCD_VERSION" \
      "go.etcd.io/etcd/api/v3@$OCS_K8S_ETCD_VERSION" "go.etcd.io/etcd/client/pkg/v3@$OCS_K8S_ETCD_VERSION" \
      "go.etcd.io/etcd/client/v3@$OCS_K8S_ETCD_VERSION" "go.etcd.io/etcd/pkg/v3@$OCS_K8S_ETCD_VERSION" >&2)
  fi
  log "go build etcd $OCS_K8S_ETCD_VERSION"
  (cd "$d" && "$GO" build -trimpath -ldflags "-s -w" -o "$BIN/.etcd.tmp" go.etcd.io/etcd/server/v3 >&2)
  mv -f "$BIN/.etcd.tmp" "$BIN/etcd"
  stamp "$OCS_K8S_ETCD_VERSION" > "$BIN/.etcd.stamp"
  log "built etcd in $((SECONDS - t0))s"
}

build_kwok() {
  local stages=$BIN/kwok-stages-$OCS_K8S_KWOK_VERSION.yaml
  stamp_ok kwok "$OCS_K8S_KWOK_VERSION" && [ -s "$stages" ] && return 0
  local GO; GO=$(find_go); local t0=$SECONDS
  mkdir -p "$BIN"
  log "go install sigs.k8s.io/kwok/cmd/kwok@$OCS_K8S_KWOK_VERSION"
  GOBIN="$BIN/.kwok.tmp" GOFLAGS=-mod=mod "$GO" install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@$OCS_K8S_KWOK_VERSION" >&2
  mv -f "$BIN/.kwok.tmp/kwok" "$BIN/kwok"; rmdir "$BIN/.kwok.tmp"
  # kwok's binary has no built-in behaviour: what happens to nodes and pods is described by
  # Stage objects. The defaults that kwokctl bundles ship as YAML inside the module; take the
  # "fast" ones (pods Running at once, nodes Ready at once, heartbeats through Leases).
  local m st f
  m=$(GOFLAGS=-mod=mod "$GO" mod download -json "sigs.k8s.io/kwok@$OCS_K8S_KWOK_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  st=$m/kustomize/stage
  {
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
      pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml \
      volume/fast/pvc-provision.yaml volume/fast/pv-bind.yaml volume/fast/pv-delete.yaml \
      volume/fast/pvc-delete.yaml; do
      [ -f "$st/$f" ] || die "kwok stage $f not found in $st"
      echo '---'; cat "$st/$f"
    done
  } > "$stages.tmp"
  mv -f "$stages.tmp" "$stages"
  # cat, not cp: files in the module cache are read-only, and a copy would keep that mode
  cat "$st/volume/fast/storage-class.yaml" > "$BIN/kwok-storage-class-$OCS_K8S_KWOK_VERSION.yaml"
  stamp "$OCS_K8S_KWOK_VERSION" > "$BIN/.kwok.stamp"
  log "built kwok in $((SECONDS - t0))s"
}

build_snapshot_crds() {
  local out=$BIN/snapshot-crds-$OCS_K8S_SNAPSHOTTER_VERSION.yaml
  [ -s "$out" ] && return 0
  local GO m f; GO=$(find_go)
  mkdir -p "$BIN"
  log "VolumeSnapshot CRDs from github.com/kubernetes-csi/external-snapshotter/client/v8@$OCS_K8S_SNAPSHOTTER_VERSION"
  m=$(GOFLAGS=-mod=mod "$GO" mod download -json \
    "github.com/kubernetes-csi/external-snapshotter/client/v8@$OCS_K8S_SNAPSHOTTER_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  {
    for f in volumesnapshotclasses volumesnapshotcontents volumesnapshots; do
      [ -f "$m/config/crd/snapshot.storage.k8s.io_$f.yaml" ] || die "CRD $f not found in $m"
      echo '---'; cat "$m/config/crd/snapshot.storage.k8s.io_$f.yaml"
    done
  } > "$out.tmp"
  mv -f "$out.tmp" "$out"
}

mkdir -p "$OCS_K8S_CACHE"
# Two test runs starting at once must not build into the same files: one builds, the other waits.
exec 9>"$OCS_K8S_CACHE/.build.lock"
if ! flock -n 9; then log "another build holds $OCS_K8S_CACHE/.build.lock; waiting"; flock 9; fi
T0=$SECONDS
build_k8s
build_etcd
build_kwok
build_snapshot_crds
[ $((SECONDS - T0)) -gt 1 ] && log "build done in $((SECONDS - T0))s"
echo "$BIN"
