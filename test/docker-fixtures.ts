import { execFileSync, execSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CATALOG } from "../src/core/catalog/catalog.js";
import type { Catalog } from "../src/domain/catalog.js";
import type { DriverFiles, HostGpu } from "../src/drivers/docker/gpus.js";

/**
 * A catalog for the docker driver tests: one 2-GPU host (this machine); every image runs `image`
 * except compshareImage-cuda124, which names an image no engine has; `command` for the Ubuntu image.
 */
export function dockerCatalog(image: string, command?: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "ocs-docker-cat-"));
  const catalog: Catalog = {
    ...DEFAULT_CATALOG,
    hosts: [{ id: "this-machine", zone: "cn-wlcb-01", gpuType: "4090", gpus: 2, cpu: 64, memoryMB: 262144 }],
    images: DEFAULT_CATALOG.images.map((im) => ({
      ...im,
      runtimeImage: im.id === "compshareImage-cuda124" ? "local/does-not-exist:1" : image,
      runtimeCommand: im.id === "compshareImage-ubuntu2204" ? command : undefined,
    })),
  };
  const path = join(dir, "catalog.json");
  writeFileSync(path, JSON.stringify(catalog));
  return path;
}

/** The test image scripts/test.mjs made on the suite's main engine (absent: no engine). */
export const DOCKER_IMAGE = process.env.OCS_TEST_DOCKER_IMAGE;

/** `describe` options of a suite on the main engine: skipped without it, an error under CI=true. */
export function mainEngine(): { skip?: string } {
  if (DOCKER_IMAGE) return {};
  if (process.env.CI === "true") throw new Error("Docker Engine missing in CI");
  return { skip: "Docker Engine not available (see npm test output)" };
}

/** `docker` on the main engine; stderr piped, so an expected failure's message goes into the error. */
export const docker = (...args: string[]) =>
  execFileSync("docker", args, { encoding: "utf8", stdio: "pipe" }).trim();

/** A shell command inside an instance's container on the main engine. */
export const sh = (id: string, cmd: string) => docker("exec", `ocs-${id}`, "sh", "-c", cmd);

/** Polls a condition (the worker runs in the background) for up to 20 s. */
export async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A second Docker Engine of the test's own, whose data root is a tmpfs of a set size, so a test
 * can fill the engine's disk for real. It runs beside the suite's main engine (own socket, exec
 * root and pid file) and is torn down, mount included, by `close`.
 */
export interface ScratchEngine {
  socket: string;
  /** `docker` against this engine. */
  docker(...args: string[]): string;
  /** Fills the data root to the last byte. */
  fillDisk(): void;
  freeDisk(): void;
  close(): Promise<void>;
}

export async function startScratchEngine(sizeMB: number, image: string): Promise<ScratchEngine> {
  // Short paths: containerd's sockets live under the exec root and unix socket paths stop at 108.
  const dir = mkdtempSync("/tmp/ocs-eng-");
  const root = join(dir, "root");
  mkdirSync(root);
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMB}m`, "tmpfs", root]);
  const socket = join(dir, "docker.sock");
  const pidFile = join(dir, "pid");
  const log = openSync(join(dir, "dockerd.log"), "a");
  const child = spawn(
    "dockerd",
    [
      "--data-root",
      join(root, "data"),
      "--exec-root",
      join(dir, "x"),
      "--pidfile",
      pidFile,
      "--host",
      `unix://${socket}`,
      "--iptables=false",
      "--bridge=none",
    ],
    { detached: true, stdio: ["ignore", log, log] },
  );
  child.unref();
  const docker = (...args: string[]) =>
    execFileSync("docker", ["--host", `unix://${socket}`, ...args], {
      encoding: "utf8",
      stdio: "pipe",
    }).trim();
  const up = () =>
    spawnSync("docker", ["--host", `unix://${socket}`, "version"], { stdio: "ignore", timeout: 5000 })
      .status === 0;
  const close = async () => {
    // A user-defined network's bridge interface outlives a stopped dockerd (it is kept for the
    // engine's next start), and the host's bridges use up the engine's default address pools
    // (about 30 networks): remove this engine's networks, and their bridges, on the way out.
    const bridges = up()
      ? docker("network", "ls", "-q", "--filter", "driver=bridge")
          .split("\n")
          .filter(Boolean)
          .map((id) => `br-${id.slice(0, 12)}`)
      : [];
    if (bridges.length) {
      spawnSync(
        "docker",
        ["--host", `unix://${socket}`, "rm", "-f", ...docker("ps", "-aq").split("\n").filter(Boolean)],
        {
          stdio: "ignore",
        },
      );
      spawnSync("docker", ["--host", `unix://${socket}`, "network", "prune", "-f"], { stdio: "ignore" });
    }
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : child.pid;
    try {
      if (pid) process.kill(pid, "SIGTERM");
    } catch {
      /* already gone */
    }
    const deadline = Date.now() + 30_000;
    while (pid && Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const bridge of bridges) spawnSync("ip", ["link", "del", bridge], { stdio: "ignore" });
    // Lazy: a shim that outlives dockerd for a moment must not keep the mount (and the test) alive.
    spawnSync("umount", ["-l", root]);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!up()) {
    if (Date.now() > deadline) {
      const tail = readFileSync(join(dir, "dockerd.log"), "utf8").slice(-2000);
      await close();
      throw new Error(`the scratch dockerd did not start:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  execSync(`docker save ${image} | docker --host unix://${socket} load`, { stdio: "ignore" });
  const fill = join(root, "fill");
  return {
    socket,
    docker,
    // dd stops at ENOSPC, which is the point.
    fillDisk: () => void spawnSync("dd", ["if=/dev/zero", `of=${fill}`, "bs=1M"], { stdio: "ignore" }),
    freeDisk: () => rmSync(fill, { force: true }),
    close,
  };
}

/**
 * A GPU host as far as the docker driver's wiring can tell, for CI which has none: real device
 * nodes (mknod, root) for two GPUs in a folder of their own, and an nvidia-smi that, like NVML,
 * lists a GPU for each /dev/nvidiaN it can see and fails when it sees none. Run inside a
 * container, it shows exactly which GPU nodes the container was given.
 */
export function fakeGpuHost(): { files: DriverFiles; inventory: HostGpu[]; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "ocs-fake-gpu-"));
  const deviceDir = join(dir, "dev");
  mkdirSync(deviceDir);
  for (const [node, minor] of [
    ["nvidia0", 0],
    ["nvidia1", 1],
    ["nvidiactl", 255],
    ["nvidia-uvm", 254],
  ] as const) {
    execFileSync("mknod", [join(deviceDir, node), "c", "195", String(minor)]);
  }
  const nvidiaSmi = join(dir, "nvidia-smi");
  writeFileSync(
    nvidiaSmi,
    `#!/bin/sh
found=0
for d in /dev/nvidia[0-9]*; do
  [ -e "$d" ] || continue
  n=\${d#/dev/nvidia}; found=1
  echo "GPU $n: Fake H100 (UUID: GPU-fake-$n)"
done
[ $found = 1 ] || { echo "Failed to initialize NVML: Unknown Error"; exit 9; }
`,
  );
  chmodSync(nvidiaSmi, 0o755);
  return {
    files: { deviceDir, nvidiaSmi },
    inventory: [0, 1].map((index) => ({
      index,
      uuid: `GPU-fake-${index}`,
      name: "Fake H100",
      memoryMiB: 81559,
    })),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
