#!/usr/bin/env bash
# stop.sh [RUN_DIR] - stop a cluster started by start.sh and remove its run dir.
# RUN_DIR defaults to $OCS_K8S_RUN_DIR, then to the cache's last-run link.
# Only the PIDs recorded in RUN_DIR/pids are signalled, and only while /proc says they still run
# the binary of that name: a PID reused by an unrelated process since is left alone.
# OCS_K8S_KEEP=1 keeps the run dir (logs, etcd data) for a post-mortem.
set -uo pipefail
trap '' PIPE HUP   # keep going when the caller's output pipe closes mid-way
. "$(dirname "$0")/lib.sh"
RUN=${1:-${OCS_K8S_RUN_DIR:-}}
[ -n "$RUN" ] || RUN=$(readlink "$OCS_K8S_CACHE/last-run" 2>/dev/null || true)
[ -n "$RUN" ] && [ -d "$RUN/pids" ] || { log "stop: no run dir (${RUN:-unset})"; exit 0; }
touch "$RUN/stopping"   # tells start.sh's owner watchdog to end

ours() { # PID NAME: alive and still our binary? ("(deleted)": the cached binary was rebuilt since)
  local exe; exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  [ "$(basename "${exe% (deleted)}")" = "$2" ]
}

# TERM the given components at once, wait up to 5 s for them, KILL what is left
stop_all() { # NAME...
  local name pid np left=() alive
  for name in "$@"; do
    pid=$(cat "$RUN/pids/$name.pid" 2>/dev/null) || continue
    ours "$pid" "$name" || continue
    kill -TERM "$pid" 2>/dev/null && left+=("$name:$pid")
  done
  [ ${#left[@]} -gt 0 ] || return 0
  for _ in $(seq 1 50); do
    alive=0
    for np in "${left[@]}"; do ours "${np#*:}" "${np%%:*}" && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for np in "${left[@]}"; do
    if ours "${np#*:}" "${np%%:*}"; then kill -KILL "${np#*:}" 2>/dev/null; log "killed ${np%%:*} (${np#*:})"; fi
  done
  log "stopped ${left[*]}"
}
# Everything but etcd first, in parallel (none has to outlive another), then etcd: an API server
# whose etcd is gone can hang in its shutdown until it is killed.
clients=()
while read -r name; do [ "$name" = etcd ] || clients+=("$name"); done < <(tac "$RUN/pids/order" 2>/dev/null)
stop_all ${clients[@]+"${clients[@]}"}
stop_all etcd
if [ "${OCS_K8S_KEEP:-0}" != 1 ]; then
  rm -rf "$RUN"
  [ "$(readlink "$OCS_K8S_CACHE/last-run" 2>/dev/null)" = "$RUN" ] && rm -f "$OCS_K8S_CACHE/last-run"
fi
exit 0
