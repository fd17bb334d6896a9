import type { Clock } from "../../domain/clock.js";
import { ApiError, badParam } from "../../domain/errors.js";
import type { DiskRecord, InstanceRecord, TaskRecord } from "../../domain/records.js";
import type { Driver, InstanceSample, SampleTarget } from "../../drivers/driver.js";
import type { Repos, Store } from "../../store/store.js";
import type { Scope } from "../instances/scope.js";
import { visibleOrThrow } from "../instances/scope.js";
import type { TaskResult } from "../tasks.js";
import { ensureRecurringTask } from "../tasks.js";

/** The subject of the one recurring collector task. */
const MONITOR_TASK_SUBJECT = "monitor";
/** Without StartTime/EndTime (or for several instances) the last this long (docs: 60 s). */
export const DEFAULT_WINDOW_MS = 60_000;
/** At most this many instances per query (docs: 10). */
export const MAX_MONITOR_IDS = 10;
/** At most this many points per series; a longer range is thinned evenly. */
export const MAX_POINTS = 1000;

export interface MonitorOptions {
  /** How often the collector samples every running instance. */
  intervalMs: number;
  /** How long samples are kept. */
  retentionMs: number;
}

export interface MonitorDeps extends MonitorOptions {
  store: Store;
  clock: Clock;
}

/** One stored reading of an instance (a driver's sample without its id) and when it was made. */
export interface Sample {
  at: number;
  data: Omit<InstanceSample, "id">;
}

export interface MonitorQuery {
  ids: string[];
  /** Unix ms; honoured for a single instance only (docs). */
  from?: number;
  to?: number;
}

/** Makes the recurring collector task unless it exists, due at once (start-up, emulator reset). */
export function ensureMonitorTask(r: Repos, now: number): Promise<void> {
  return ensureRecurringTask(r, "monitor-sample", MONITOR_TASK_SUBJECT, now, now);
}

/**
 * Monitoring: a collector (the recurring `monitor-sample` task, so one replica samples per tick)
 * asks the driver for readings of every running instance and keeps them in the store for the
 * retention; queries and Describe's latest snapshot read them back on any replica.
 */
export class MonitorService {
  constructor(private readonly d: MonitorDeps) {}

  get options(): MonitorOptions {
    return { intervalMs: this.d.intervalMs, retentionMs: this.d.retentionMs };
  }

  /** The `monitor-sample` task: one tick, then the same row again one interval later. */
  async collectTask(_task: TaskRecord, driver: Driver): Promise<TaskResult> {
    await this.collect(driver);
    return { retryInMs: this.d.intervalMs };
  }

  /** Samples every running instance once and drops what is past the retention; returns the count. */
  async collect(driver: Driver): Promise<number> {
    const now = this.d.clock.now();
    const { store } = this.d;
    const running = driver.sample ? await store.instances.running() : [];
    let samples: InstanceSample[] = [];
    if (running.length > 0 && driver.sample) {
      const ids = running.map((i) => i.id);
      const gpus = await store.hosts.gpusOfMany(ids);
      // Grouped once: filtering every disk per instance was quadratic (30,000 running instances
      // held the process for minutes).
      const disks = new Map<string, DiskRecord[]>();
      for (const x of await store.disks.ofInstances(ids)) {
        const own = disks.get(x.instanceId as string);
        if (own) own.push(x);
        else disks.set(x.instanceId as string, [x]);
      }
      const targets: SampleTarget[] = running.map((inst) => {
        const own = disks.get(inst.id) ?? [];
        return {
          id: inst.id,
          hostId: inst.hostId ?? "",
          gpus: inst.withoutGpu ? [] : (gpus.get(inst.id) ?? []),
          cpu: inst.cpu,
          memoryMB: inst.memory,
          bootGB: own.find((x) => x.isBoot)?.sizeGB ?? 0,
          dataDisks: own
            .filter((x) => !x.isBoot && x.state === "InUse")
            .map((x) => ({ id: x.id, sizeGB: x.sizeGB })),
        };
      });
      samples = await driver.sample(targets, now);
    }
    await store.tx(async (r) => {
      await r.monitor.insertMany(
        samples.map(({ id, ...data }) => ({
          instanceId: id,
          at: now,
          data: data as Record<string, unknown>,
        })),
      );
      await r.monitor.pruneBefore(now - this.d.retentionMs);
    });
    return samples.length;
  }

  /**
   * GetCompShareInstanceMonitor's data: each instance (visible to the caller, in the request's
   * region) with its samples in the range. StartTime/EndTime apply to one instance only; otherwise
   * (and by default) the last 60 s, as the docs say.
   */
  async query(scope: Scope, q: MonitorQuery): Promise<Array<{ inst: InstanceRecord; samples: Sample[] }>> {
    if (q.ids.length > MAX_MONITOR_IDS)
      throw badParam("UHostIds", `at most ${MAX_MONITOR_IDS} instances per call, got ${q.ids.length}`);
    const now = this.d.clock.now();
    const single = q.ids.length === 1;
    const to = single && q.to !== undefined ? q.to : now;
    const from = single && q.from !== undefined ? q.from : to - DEFAULT_WINDOW_MS;
    if (from > to) throw badParam("StartTime", "must not be after EndTime");
    const out: Array<{ inst: InstanceRecord; samples: Sample[] }> = [];
    for (const id of [...new Set(q.ids)]) {
      const inst = visibleOrThrow(await this.d.store.instances.get(id), id, scope);
      // Unlike the other instance reads, the Region sent must be the instance's (README).
      if (inst.region !== scope.region) throw new ApiError("InstanceNotFound", { uhostId: id });
      const rows = await this.d.store.monitor.range(id, from, to);
      out.push({ inst, samples: thin(rows.map((r) => ({ at: r.at, data: r.data as Sample["data"] }))) });
    }
    return out;
  }

  /** The newest sample of each running instance since its last start (Describe's MonitorMessages). */
  async latest(instances: InstanceRecord[]): Promise<Map<string, Sample>> {
    const running = instances.filter((i) => i.state === "Running");
    const rows = await this.d.store.monitor.latest(running.map((i) => i.id));
    const out = new Map<string, Sample>();
    for (const inst of running) {
      const s = rows.get(inst.id);
      if (s && s.at >= (inst.startedAt ?? 0)) out.set(inst.id, { at: s.at, data: s.data as Sample["data"] });
    }
    return out;
  }
}

/** Keeps at most {@link MAX_POINTS} samples, evenly spread, the newest always among them. */
function thin(samples: Sample[]): Sample[] {
  if (samples.length <= MAX_POINTS) return samples;
  const step = samples.length / MAX_POINTS;
  const out: Sample[] = [];
  for (let i = samples.length - 1; i >= 0 && out.length < MAX_POINTS; i -= step)
    out.push(samples[Math.floor(i)] as Sample);
  return out.reverse();
}
