import type { TaskHandler, TaskHandlers, TaskQueue } from "../core/tasks.js";
import type { Clock } from "../domain/clock.js";
import type { TaskRecord } from "../domain/records.js";
import { SimDriver } from "../drivers/sim/sim-driver.js";
import { createLogger } from "../log.js";
import type { WorkerOptions } from "./worker.js";
import { Worker } from "./worker.js";

/**
 * core's TaskQueue in memory, with the tasks repository's semantics: a claim sets the claimant and
 * its expiry and counts an attempt; extend, postpone and complete act only for the claimant.
 * `calls` records every call in order; `claimGate` holds claimDue after it has chosen its tasks.
 */
export class FakeQueue implements Pick<TaskQueue, keyof TaskQueue> {
  readonly tasks = new Map<string, TaskRecord>();
  readonly calls: string[] = [];
  claimGate: (() => Promise<void>) | undefined;
  /** Task ids whose complete and postpone fail (a database that went away mid-round). */
  readonly failing = new Set<string>();
  /** false: as on PostgreSQL, where other replicas claim too. */
  soleClaimant = true;

  add(t: Partial<TaskRecord> & { id: string }): void {
    this.tasks.set(t.id, {
      kind: "transition",
      instanceId: `uhost-${t.id}`,
      dueAt: 0,
      claimedBy: null,
      claimExpiresAt: null,
      attempts: 0,
      payload: {},
      ...t,
    });
  }

  private claimable(t: TaskRecord, now: number): boolean {
    return t.dueAt <= now && (t.claimedBy === null || (t.claimExpiresAt ?? 0) < now);
  }

  private owned(id: string, worker: string): TaskRecord | undefined {
    const t = this.tasks.get(id);
    return t?.claimedBy === worker ? t : undefined;
  }

  async claimDue(worker: string, now: number, claimMs: number, limit: number): Promise<TaskRecord[]> {
    this.calls.push(`claimDue ${worker}`);
    const due = [...this.tasks.values()]
      .filter((t) => this.claimable(t, now))
      .sort((a, b) => a.dueAt - b.dueAt || a.id.localeCompare(b.id))
      .slice(0, limit);
    for (const t of due) {
      t.claimedBy = worker;
      t.claimExpiresAt = now + claimMs;
      t.attempts++;
    }
    await this.claimGate?.();
    return due.map((t) => ({ ...t, payload: { ...t.payload } }));
  }

  async extendClaims(ids: readonly string[], worker: string, until: number): Promise<void> {
    this.calls.push(`extendClaims ${ids.join(",")} ${until}`);
    for (const id of ids) {
      const t = this.owned(id, worker);
      if (t) t.claimExpiresAt = until;
    }
  }

  async postpone(id: string, worker: string, dueAt: number): Promise<void> {
    this.calls.push(`postpone ${id}`);
    if (this.failing.has(id)) throw new Error("connection lost");
    const t = this.owned(id, worker);
    if (!t) return;
    t.claimedBy = null;
    t.claimExpiresAt = null;
    t.dueAt = dueAt;
  }

  async complete(id: string, worker: string): Promise<void> {
    this.calls.push(`complete ${id}`);
    if (this.failing.has(id)) throw new Error("connection lost");
    if (this.owned(id, worker)) this.tasks.delete(id);
  }

  async releaseClaims(worker: string): Promise<number> {
    this.calls.push(`releaseClaims ${worker}`);
    let n = 0;
    for (const t of this.tasks.values()) {
      if (t.claimedBy !== worker) continue;
      t.claimedBy = null;
      t.claimExpiresAt = null;
      n++;
    }
    return n;
  }

  async anyDue(now: number): Promise<boolean> {
    return [...this.tasks.values()].some((t) => t.dueAt <= now);
  }
}

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
}

/** A promise and the function that settles it: a gate a fake handler waits on. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/** Lets pending promise callbacks and I/O-free async steps run (setImmediate is never mocked here). */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

export interface Rig {
  queue: FakeQueue;
  clock: ManualClock;
  worker: Worker;
  driver: SimDriver;
  lines: Array<Record<string, unknown>>;
}

export const workers: Worker[] = [];

// Tests that wait on a gate carry a timeout: a worker that never gets there fails, not hangs.

/** A worker on a fake queue and a hand-moved clock; every kind of task runs `handler`. */
export function rig(
  handler: TaskHandler,
  opts: Partial<WorkerOptions> = {},
  kinds: Partial<TaskHandlers> = {},
): Rig {
  const queue = new FakeQueue();
  const clock = new ManualClock();
  const driver = new SimDriver(0);
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line)) });
  const handlers: TaskHandlers = {
    transition: handler,
    "scheduled-stop": handler,
    release: handler,
    purge: handler,
    image: handler,
    "image-remove": handler,
    "disk-release": handler,
    "monitor-sample": handler,
    "audit-retention": handler,
    ...kinds,
  };
  const worker = new Worker(queue, handlers, driver, clock, log, {
    claimMs: 30_000,
    // Long enough that no idle poll runs during a test: only start() and kick() wake the worker.
    pollMs: 3_600_000,
    batch: 32,
    ...opts,
  });
  workers.push(worker);
  return { queue, clock, worker, driver, lines };
}

/** Stops every worker a test made (each test file calls it after each test). */
export async function stopWorkers(): Promise<void> {
  for (const w of workers.splice(0)) await w.stop();
}
