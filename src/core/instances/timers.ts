import type { Clock } from "../../domain/clock.js";
import { ApiError, Conflict } from "../../domain/errors.js";
import type { InstanceRecord, TaskRecord } from "../../domain/records.js";
import type { Driver } from "../../drivers/driver.js";
import type { Logger } from "../../log.js";
import type { Store } from "../../store/store.js";
import { recordInstanceEvent } from "../events.js";
import type { TaskResult } from "../tasks.js";
import type { OperationEngine } from "./engine.js";
import { systemScope } from "./scope.js";

/** Scheduled stops fired per transaction (at most {@link BEGIN_MANY_MAX}). */
const STOPS_PER_TX = 100;

/** A held lock is waited out in steps of this long. */
const LOCK_RETRY_MS = 1000;

/** An image job takes minutes: it is waited out in longer steps than a lock. */
const IMAGE_RETRY_MS = 10_000;

/** A held lock or an image being made: the timer waits it out (this many ms), never skips. */
function waitsOut(e: unknown): number | undefined {
  if (!(e instanceof ApiError)) return undefined;
  if (e.code === "InstanceOperationInProgress") return LOCK_RETRY_MS;
  if (e.code === "ImageInProgress") return IMAGE_RETRY_MS;
  return undefined;
}

/**
 * The instance timers: a scheduled stop, the 7-day release of a stopped Postpay instance, and the
 * purge of the recycle bin. The first two go through the user's own operations (Stop, Terminate),
 * so they obey the same locks and states.
 */
export class InstanceTimers {
  constructor(
    private readonly store: Store,
    private readonly engine: OperationEngine,
    private readonly clock: Clock,
    private readonly log?: Logger,
  ) {}

  /**
   * Scheduled stops due together. Each goes through the user's Stop path, so a held lock or an
   * image being made is waited out, never skipped. They fire by one Stop of many instances per
   * transaction (up to {@link STOPS_PER_TX}); a batch that fails as a whole (a deadlock with
   * another replica, one instance's reservation refused) is tried again one instance at a time,
   * so one instance never holds back the others.
   */
  async scheduledStops(tasks: TaskRecord[]): Promise<Array<PromiseSettledResult<TaskResult>>> {
    const chunks: TaskRecord[][] = [];
    for (let i = 0; i < tasks.length; i += STOPS_PER_TX) chunks.push(tasks.slice(i, i + STOPS_PER_TX));
    const answered = await Promise.all(
      chunks.map(async (chunk) => {
        try {
          return await this.fire(chunk);
        } catch (e) {
          if (chunk.length === 1) return [{ status: "rejected", reason: e } as PromiseRejectedResult];
          this.log?.warn("a batch of scheduled stops failed; firing them one at a time", {
            stops: chunk.length,
            err: e,
          });
          return (await Promise.allSettled(chunk.map((t) => this.fire([t])))).map((r) =>
            r.status === "fulfilled" ? (r.value[0] as PromiseSettledResult<TaskResult>) : r,
          );
        }
      }),
    );
    return answered.flat();
  }

  /**
   * Fires the stops of `tasks` in one transaction; each task's outcome, in order. Throws only when
   * nothing was fired.
   */
  private async fire(tasks: TaskRecord[]): Promise<Array<PromiseSettledResult<TaskResult>>> {
    const insts = new Map(
      (await this.store.instances.getMany([...new Set(tasks.map((t) => t.instanceId))])).map((i) => [
        i.id,
        i,
      ]),
    );
    // Only instances whose schedule is due are stopped, each once (two tasks of one instance: the
    // second has nothing left to do once the first's Stop has cancelled it). A schedule moved
    // later after its task was claimed has a task of its own, due then.
    const now = this.clock.now();
    const firing = new Map<string, InstanceRecord>();
    for (const t of tasks) {
      const inst = insts.get(t.instanceId);
      if (inst && !inst.inRecycle && inst.schedulerStopAt !== null && inst.schedulerStopAt <= now)
        firing.set(inst.id, inst);
    }
    const targets = [...firing.values()];
    if (targets.length === 0) return tasks.map(() => ({ status: "fulfilled", value: { done: true } }));
    const refusals = await this.engine.beginMany(
      targets.map((inst) => ({ scope: systemScope(inst), id: inst.id })),
      "Stop",
      { force: true },
      "scheduler",
    );
    const refusalOf = new Map(targets.map((inst, i) => [inst.id, refusals[i]]));
    const answered = new Set<string>();
    return Promise.allSettled(
      tasks.map(async (t): Promise<TaskResult> => {
        const inst = firing.get(t.instanceId);
        if (!inst || answered.has(inst.id)) return { done: true };
        answered.add(inst.id);
        const refused = refusalOf.get(inst.id);
        // The Stop cleared the instance's schedule, this task's row with it, in its own transaction.
        return refused ? this.refused(inst, refused) : { done: true, removed: true };
      }),
    );
  }

  /** A scheduled stop the Stop refused: wait out a lock, an image or a start; else drop the schedule. */
  private async refused(inst: InstanceRecord, e: ApiError): Promise<TaskResult> {
    const wait = waitsOut(e);
    if (wait !== undefined) return { retryInMs: wait };
    if (e.code !== "InvalidInstanceState") throw e;
    // Still coming up: the stop waits for it. Not running any more: nothing to stop.
    if (inst.state === "Starting" || inst.state === "Rebooting" || inst.state === "Install")
      return { retryInMs: LOCK_RETRY_MS };
    await this.store.tx((r) =>
      r.instances.cas(inst.id, { lockedBy: "any", now: this.clock.now() }, { schedulerStopAt: null }),
    );
    return { done: true };
  }

  /** The 7-day release of a stopped Postpay instance: terminated into the recycle bin. */
  async release(task: TaskRecord): Promise<TaskResult> {
    const inst = await this.store.instances.get(task.instanceId);
    if (!inst || inst.inRecycle || inst.releaseAt === null || inst.releaseAt > this.clock.now())
      return { done: true };
    try {
      await this.engine.begin(systemScope(inst), inst.id, "Terminate", { releaseUDisk: false }, "release");
      // Terminate drops the instance's release task, this one, in its own transaction.
      return { done: true, removed: true };
    } catch (e) {
      const wait = waitsOut(e);
      if (wait !== undefined) return { retryInMs: wait };
      if (e instanceof ApiError && e.code === "InvalidInstanceState") return { done: true };
      throw e;
    }
  }

  /**
   * Purges an instance whose recycle-bin retention is over, then removes its runtime. Kept data
   * disks stay as detached disks. The store change comes first: a crash before the driver call
   * leaves a runtime the reconciler removes as unknown.
   */
  async purge(task: TaskRecord, driver: Driver): Promise<TaskResult> {
    const inst = await this.store.tx(async (r) => {
      const found = await r.instances.get(task.instanceId);
      await r.tasks.delete(task.id);
      if (!found || !found.inRecycle) return undefined;
      if (found.operation && (found.operationExpiresAt ?? 0) >= this.clock.now()) throw new Conflict();
      await r.disks.orphanKeptData(found.id);
      await r.disks.deleteOf(found.id, false);
      await r.hosts.releaseGpus(found.id);
      await r.tasks.deleteOf(found.id);
      await r.instances.remove(found.id);
      await recordInstanceEvent(r, found, "instance.purged", this.clock.now());
      return found;
    });
    // The transaction above deleted this task's row whatever it found.
    if (!inst) return { done: true, removed: true };
    try {
      await driver.destroy(inst.id, { releaseDataDisks: inst.releaseUdisk, dataDiskIds: [] });
      return { done: true, removed: true };
    } catch (e) {
      return { done: true, removed: true, note: `driver destroy at purge failed: ${(e as Error).message}` };
    }
  }
}
