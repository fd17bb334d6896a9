#!/usr/bin/env bash
# Proves GPU wiring on a real NVIDIA host: builds the project, then runs scripts/gpu-smoke.mjs
# (one instance with 1 GPU, one started WithoutGpu, `nvidia-smi -L` inside each).
# Needs: Node 20, Docker Engine running, the NVIDIA driver (nvidia-smi), and a small image
# (../shared/gpu/start-docker.sh imports local/busybox:1). Usage: scripts/gpu-smoke.sh [image]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d dist ] || npx tsc -p tsconfig.json
node scripts/gpu-smoke.mjs "$@"
