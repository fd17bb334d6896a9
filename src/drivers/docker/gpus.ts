import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** One GPU of this host as nvidia-smi reports it. */
export interface HostGpu {
  index: number;
  uuid: string;
  name: string;
  memoryMiB: number;
}

/**
 * How a container gets its GPUs:
 * - `devices`: /dev/nvidiactl, /dev/nvidia-uvm and /dev/nvidiaN as devices, plus the driver's
 *   libraries and nvidia-smi bind-mounted read-only (works with plain Docker Engine);
 * - `nvidia-runtime`: DeviceRequests with the GPUs' UUIDs (NVIDIA container toolkit installed);
 * - `none`: GPUs are accounted but not passed (for hosts without GPUs: tests, demos).
 */
export type GpuMode = "devices" | "nvidia-runtime" | "none";

/** Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): HostGpu[] {
  return csv
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [index, uuid, name, mem] = line.split(",").map((x) => x.trim());
      if (index === undefined || !/^\d+$/.test(index) || !uuid?.startsWith("GPU-")) {
        throw new Error(`cannot read nvidia-smi line: ${line}`);
      }
      return { index: Number(index), uuid, name: name ?? "", memoryMiB: Number.parseInt(mem ?? "0", 10) };
    });
}

/** Runs nvidia-smi (or the configured stand-in) and returns this host's GPUs. */
export function discoverGpus(nvidiaSmi = "nvidia-smi"): HostGpu[] {
  const out = execFileSync(
    nvidiaSmi,
    ["--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits"],
    {
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  return parseNvidiaSmi(out);
}

/** Where the host's NVIDIA user-space driver lives (for bind mounts in `devices` mode). */
export interface DriverFiles {
  libDir?: string;
  nvidiaSmi?: string;
  /**
   * Also bind the host's /lib/x86_64-linux-gnu and /lib64 so the host's nvidia-smi runs in images
   * without a matching libc (busybox). Off by default: it shadows the image's own libraries.
   */
  bindHostLoader?: boolean;
  /** Where the host's nvidia device nodes are (default /dev); inside, they are always at /dev. */
  deviceDir?: string;
}

export function findDriverFiles(): DriverFiles {
  const libDir = ["/usr/local/nvidia/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib64"].find((d) =>
    existsSync(`${d}/libnvidia-ml.so.1`),
  );
  const nvidiaSmi = [
    "/usr/bin/nvidia-smi",
    "/usr/local/nvidia/bin/nvidia-smi",
    "/usr/local/bin/nvidia-smi",
  ].find((p) => existsSync(p));
  return { libDir, nvidiaSmi };
}

/** The HostConfig/Env pieces that give a container exactly `held` GPUs (none → no GPU at all). */
export function gpuWiring(
  mode: GpuMode,
  held: number[],
  inventory: HostGpu[],
  files: DriverFiles,
): { Devices: Array<Record<string, string>>; Binds: string[]; DeviceRequests: unknown[]; Env: string[] } {
  const wiring = {
    Devices: [] as Array<Record<string, string>>,
    Binds: [] as string[],
    DeviceRequests: [] as unknown[],
    Env: [] as string[],
  };
  if (mode === "none") {
    wiring.Env.push("NVIDIA_VISIBLE_DEVICES=void");
    return wiring;
  }
  if (mode === "devices") {
    // The driver's files are mounted whatever the GPU set, as a GPU VM keeps its driver when
    // started without GPU: nvidia-smi there finds no device instead of being missing. It also
    // keeps the mounts, and so the mount points Docker creates in the container's own
    // filesystem, the same across GPU-set changes: a snapshot never carries a stale empty
    // placeholder where a binary used to be mounted.
    if (files.libDir) {
      wiring.Binds.push(`${files.libDir}:/usr/local/nvidia/lib64:ro`);
      wiring.Env.push("LD_LIBRARY_PATH=/usr/local/nvidia/lib64");
    }
    if (files.nvidiaSmi) wiring.Binds.push(`${files.nvidiaSmi}:/usr/bin/nvidia-smi:ro`);
    if (files.bindHostLoader) {
      // A host binary needs the host's loader and libc at the same paths (shared/gpu/README.md).
      wiring.Binds.push("/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro", "/lib64:/lib64:ro");
    }
  }
  if (held.length === 0) {
    // CUDA images see every GPU unless told otherwise.
    wiring.Env.push("NVIDIA_VISIBLE_DEVICES=void");
    return wiring;
  }
  const gpus = held.map((i) => {
    const g = inventory.find((x) => x.index === i);
    if (!g)
      throw new Error(
        `GPU ${i} is not on this host (nvidia-smi lists ${inventory.map((x) => x.index).join(", ") || "none"})`,
      );
    return g;
  });
  // Said in devices mode too: where the NVIDIA runtime is Docker's default, its hook would
  // otherwise add every GPU, and a snapshot taken without GPU carries "void".
  wiring.Env.push(`NVIDIA_VISIBLE_DEVICES=${gpus.map((g) => g.uuid).join(",")}`);
  if (mode === "nvidia-runtime") {
    wiring.DeviceRequests.push({
      Driver: "nvidia",
      DeviceIDs: gpus.map((g) => g.uuid),
      Capabilities: [["gpu"]],
    });
    return wiring;
  }
  const dev = (node: string) => ({
    PathOnHost: `${files.deviceDir ?? "/dev"}/${node}`,
    PathInContainer: `/dev/${node}`,
    CgroupPermissions: "rwm",
  });
  wiring.Devices.push(dev("nvidiactl"), dev("nvidia-uvm"), ...gpus.map((g) => dev(`nvidia${g.index}`)));
  return wiring;
}

/**
 * A container's whole environment: the runtime image's own with the GPU wiring on top, written out
 * in full rather than left to Docker's merge, because a snapshot image carries the environment of
 * the container it was taken from: a key wired for the old GPU set that the runtime image does not
 * have is blanked, and the wired library directory goes in front of the image's own search path.
 */
export function containerEnv(imageEnv: string[], snapshotEnv: string[], wiringEnv: string[]): string[] {
  const parse = (list: string[]) =>
    new Map(
      list.map((kv) => {
        const i = kv.indexOf("=");
        return i < 0 ? [kv, ""] : [kv.slice(0, i), kv.slice(i + 1)];
      }),
    );
  const env = parse(imageEnv);
  for (const key of parse(snapshotEnv).keys()) if (!env.has(key)) env.set(key, "");
  for (const [key, value] of parse(wiringEnv)) {
    if (key === "LD_LIBRARY_PATH") {
      const own = (env.get(key) ?? "").split(":").filter((p) => p && p !== value);
      env.set(key, [value, ...own].join(":"));
    } else env.set(key, value);
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}
