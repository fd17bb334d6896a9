// GPU smoke test for a host with NVIDIA GPUs and Docker Engine (see shared/gpu/README.md for a
// host without the NVIDIA container toolkit). Starts `ocs serve` with the docker driver on a
// one-host catalog built from nvidia-smi, creates one instance with 1 GPU and one started without
// GPU, and shows `nvidia-smi -L` inside each: the first lists exactly its GPU, the second none.
// Usage: node scripts/gpu-smoke.mjs [image]   (default image local/busybox:1, as start-docker.sh imports)
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CATALOG } from "../dist/src/core/catalog.js";
import { discoverGpus } from "../dist/src/drivers/docker/gpus.js";
import { CompShareClient } from "../dist/src/sdk/index.js";
import { ROOT } from "../dist/test/helpers.js";
import { startProcess } from "../dist/test/processes.js";

const image = process.argv[2] ?? "local/busybox:1";
const gpus = discoverGpus();
console.log(`host GPUs (nvidia-smi): ${gpus.map((g) => `${g.index}:${g.name}:${g.uuid}`).join(", ")}`);
const type = {
  ...DEFAULT_CATALOG.gpuTypes[0],
  name: "GPU",
  zones: ["cn-wlcb-01"],
  sizes: [{ gpu: 1, cpu: 4, memory: [16384] }],
};
const catalog = {
  ...DEFAULT_CATALOG,
  gpuTypes: [type],
  hosts: [
    { id: "this-host", zone: "cn-wlcb-01", gpuType: "GPU", gpus: gpus.length, cpu: 64, memoryMB: 262144 },
  ],
  images: DEFAULT_CATALOG.images.map((im) => ({ ...im, runtimeImage: image })),
  prices: { ...DEFAULT_CATALOG.prices, gpu: { GPU: { Dynamic: 1, Postpay: 1, Month: 700, Day: 24 } } },
};
const dir = mkdtempSync(join(tmpdir(), "ocs-gpu-smoke-"));
writeFileSync(join(dir, "catalog.json"), JSON.stringify(catalog));
const server = await startProcess({
  OCS_DATA_DIR: dir,
  OCS_CATALOG: join(dir, "catalog.json"),
  OCS_DRIVER: "docker",
  OCS_DOCKER_GPU_MODE: process.env.OCS_DOCKER_GPU_MODE ?? "devices",
  OCS_DOCKER_NETWORK: process.env.OCS_DOCKER_NETWORK ?? "none",
  OCS_DOCKER_BIND_HOST_LOADER: "true",
});
const cs = new CompShareClient({
  baseUrl: server.url,
  publicKey: ROOT.publicKey,
  privateKey: ROOT.privateKey,
  region: "cn-wlcb",
  zone: "cn-wlcb-01",
});
const smi = (id) => {
  try {
    return execFileSync("docker", ["exec", `ocs-${id}`, "nvidia-smi", "-L"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch (e) {
    return `(nvidia-smi failed: ${String(e.stderr || e.stdout || e.message).trim()})`;
  }
};
try {
  const create = () =>
    cs.createCompShareInstance({
      GpuType: "GPU",
      GPU: 1,
      CPU: 4,
      Memory: 16384,
      CompShareImageId: "compshareImage-ubuntu2204",
      ChargeType: "Postpay",
    });
  const a = (await create()).UHostIds[0];
  const b = (await create()).UHostIds[0];
  await cs.waitForState(a, "Running", { intervalMs: 500 });
  await cs.waitForState(b, "Running", { intervalMs: 500 });
  await cs.stopCompShareInstance({ UHostId: b });
  await cs.waitForState(b, "Stopped", { intervalMs: 500 });
  await cs.startCompShareInstance({ UHostId: b, WithoutGpu: true });
  await cs.waitForState(b, "Running", { intervalMs: 500 });
  const held = execFileSync(
    "docker",
    ["inspect", "-f", '{{index .Config.Labels "opencompshare.gpus"}}', `ocs-${a}`],
    { encoding: "utf8" },
  ).trim();
  console.log(`\ninstance ${a} (1 GPU, holds host GPU ${held}): nvidia-smi -L inside:\n${smi(a)}`);
  console.log(`\ninstance ${b} (started WithoutGpu): nvidia-smi -L inside:\n${smi(b)}`);
  for (const id of [a, b]) {
    await cs.stopCompShareInstance({ UHostId: id });
    await cs.waitForState(id, "Stopped", { intervalMs: 500 });
    await cs.terminateCompShareInstance({ UHostId: id, ReleaseUDisk: true });
  }
  // Terminate returns at once and the worker removes the containers: wait for that before exiting.
  // Two name filters match either container.
  const left = () =>
    execFileSync("docker", ["ps", "-aq", "--filter", `name=ocs-${a}`, "--filter", `name=ocs-${b}`], {
      encoding: "utf8",
    }).trim();
  for (let i = 0; i < 60 && left() !== ""; i++) await new Promise((r) => setTimeout(r, 500));
} finally {
  await server.kill();
}
