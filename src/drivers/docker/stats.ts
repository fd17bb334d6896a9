import { execFile } from "node:child_process";
import { cpus } from "node:os";
import { promisify } from "node:util";
import type { InstanceSample, SampleTarget } from "../driver.js";
import type { Engine } from "./engine.js";
import { unless } from "./engine.js";

const run = promisify(execFile);
const GiB = 1024 ** 3;
const round2 = (v: number) => Math.round(v * 100) / 100;
const pct = (part: number, whole: number) =>
  whole > 0 ? round2(Math.min(100, (part / whole) * 100)) : undefined;

/** The counters one stats reading gives, kept to turn the next reading into rates. */
interface Counters {
  at: number;
  cpuNs: number;
  netRx?: number;
  netTx?: number;
  blkRead: number;
  blkWrite: number;
}

/** The parts of the Engine's `/containers/{id}/stats` answer (API 1.41) that are read. */
interface EngineStats {
  read: string;
  preread?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  precpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
}

/** One GPU's readings from nvidia-smi. */
interface GpuReading {
  uuid: string;
  busId: string;
  util: number;
  memory: number;
}

/**
 * Parses `nvidia-smi --query-gpu=index,uuid,pci.bus_id,utilization.gpu,memory.used,memory.total
 * --format=csv,noheader,nounits`; a GPU whose readings are not numbers (`[N/A]`) is left out.
 */
export function parseGpuReadings(csv: string): Map<number, GpuReading> {
  const out = new Map<number, GpuReading>();
  for (const line of csv.split("\n")) {
    const [index, uuid, busId, util, used, total] = line.split(",").map((x) => x.trim());
    if (!index || !/^\d+$/.test(index) || !uuid) continue;
    const u = Number(util);
    const m = pct(Number(used), Number(total));
    if (!Number.isFinite(u) || m === undefined || !Number.isFinite(m)) continue;
    out.set(Number(index), { uuid, busId: busId ?? "", util: u, memory: m });
  }
  return out;
}

/**
 * The docker driver's monitoring readings: the Engine's stats per container (CPU, memory, network
 * and block I/O; rates from the previous reading of this process), `/system/df` once per tick for
 * the system and data disks' usage, and nvidia-smi once per tick for the GPUs, each instance getting
 * exactly the GPUs it holds.
 */
export class DockerSampler {
  private readonly prev = new Map<string, Counters>();

  constructor(
    private readonly engine: Engine,
    private readonly names: { container: (id: string) => string; volume: (diskId: string) => string },
    /** The host's nvidia-smi (absent: GPUs are not sampled, as on a host without them). */
    private readonly nvidiaSmi?: string,
  ) {}

  async sample(targets: SampleTarget[]): Promise<InstanceSample[]> {
    const [gpus, df] = await Promise.all([
      this.nvidiaSmi && targets.some((t) => t.gpus.length > 0)
        ? this.gpuReadings()
        : new Map<number, GpuReading>(),
      this.diskUsage(),
    ]);
    const out = await Promise.all(targets.map((t) => this.one(t, gpus, df)));
    const live = new Set(targets.map((t) => t.id));
    for (const id of this.prev.keys()) if (!live.has(id)) this.prev.delete(id);
    return out.filter((s): s is InstanceSample => s !== undefined);
  }

  private async one(
    t: SampleTarget,
    gpus: Map<number, GpuReading>,
    df: { containers: Map<string, number>; volumes: Map<string, number> },
  ): Promise<InstanceSample | undefined> {
    const prev = this.prev.get(t.id);
    // The first reading waits for the Engine's own previous one (about a second) to give a CPU
    // figure at once; later ones are immediate and measured against ours.
    const s = await unless(
      this.engine.call<EngineStats>(
        "GET",
        `/containers/${this.names.container(t.id)}/stats?stream=false${prev ? "&one-shot=true" : ""}`,
      ),
      404,
    );
    if (!s) return undefined;
    const now = counters(s);
    this.prev.set(t.id, now);
    const base: Counters | undefined =
      prev ??
      (s.preread && s.precpu_stats?.cpu_usage?.total_usage
        ? { at: Date.parse(s.preread), cpuNs: s.precpu_stats.cpu_usage.total_usage, blkRead: 0, blkWrite: 0 }
        : undefined);
    const seconds = base ? (now.at - base.at) / 1000 : 0;
    const rate = (a: number | undefined, b: number | undefined) =>
      prev && seconds > 0 && a !== undefined && b !== undefined
        ? round2(Math.max(0, a - b) / seconds)
        : undefined;
    const cores = Math.min(t.cpu, cpus().length);
    const mem = s.memory_stats;
    // Page cache is not the program's memory (as `docker stats` and free(1) count it).
    const cache = mem?.stats?.inactive_file ?? mem?.stats?.cache ?? 0;
    const sizeRw = df.containers.get(this.names.container(t.id));
    return {
      id: t.id,
      cpu:
        base && seconds > 0
          ? round2(Math.min(100, ((now.cpuNs - base.cpuNs) / 1e9 / seconds / cores) * 100))
          : undefined,
      memory:
        mem?.usage !== undefined && mem.limit ? pct(Math.max(0, mem.usage - cache), mem.limit) : undefined,
      sysDisk: sizeRw !== undefined && t.bootGB > 0 ? pct(sizeRw, t.bootGB * GiB) : undefined,
      dataDisks: t.dataDisks.flatMap((d) => {
        const used = df.volumes.get(this.names.volume(d.id));
        const p = used !== undefined && used >= 0 ? pct(used, d.sizeGB * GiB) : undefined;
        return p === undefined ? [] : [{ id: d.id, used: p }];
      }),
      gpus: t.gpus.flatMap((index) => {
        const g = gpus.get(index);
        return g ? [{ index, ...g }] : [];
      }),
      netIn: rate(now.netRx, prev?.netRx),
      netOut: rate(now.netTx, prev?.netTx),
      diskRead: rate(now.blkRead, prev?.blkRead),
      diskWrite: rate(now.blkWrite, prev?.blkWrite),
    };
  }

  private async gpuReadings(): Promise<Map<number, GpuReading>> {
    const { stdout } = await run(
      this.nvidiaSmi as string,
      [
        "--query-gpu=index,uuid,pci.bus_id,utilization.gpu,memory.used,memory.total",
        "--format=csv,noheader,nounits",
      ],
      { timeout: 20_000 },
    );
    return parseGpuReadings(stdout);
  }

  /** Writable-layer size per container name and used bytes per volume, from one `/system/df`. */
  private async diskUsage(): Promise<{ containers: Map<string, number>; volumes: Map<string, number> }> {
    const df = await this.engine.call<{
      Containers?: Array<{ Names?: string[]; SizeRw?: number }> | null;
      Volumes?: Array<{ Name: string; UsageData?: { Size: number } | null }> | null;
    }>("GET", "/system/df");
    const containers = new Map<string, number>();
    for (const c of df.Containers ?? [])
      for (const n of c.Names ?? []) containers.set(n.replace(/^\//, ""), c.SizeRw ?? 0);
    const volumes = new Map<string, number>();
    for (const v of df.Volumes ?? []) if (v.UsageData) volumes.set(v.Name, v.UsageData.Size);
    return { containers, volumes };
  }
}

function counters(s: EngineStats): Counters {
  const nets = Object.values(s.networks ?? {});
  const blk = s.blkio_stats?.io_service_bytes_recursive ?? [];
  const sum = (op: string) => blk.filter((b) => b.op.toLowerCase() === op).reduce((a, b) => a + b.value, 0);
  return {
    at: Date.parse(s.read),
    cpuNs: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
    netRx: nets.length ? nets.reduce((a, n) => a + n.rx_bytes, 0) : undefined,
    netTx: nets.length ? nets.reduce((a, n) => a + n.tx_bytes, 0) : undefined,
    blkRead: sum("read"),
    blkWrite: sum("write"),
  };
}
