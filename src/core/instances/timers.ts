import type { Clock } from "../../domain/clock.js";
import { ApiError, Conflict } from "../../domain/errors.js";
import type { TaskRecord } from "../../domain/records.js";
import type { Driver } from "../../drivers/driver.js";
import type { Store } from "../../store/store.js";
import { recordInstanceEvent } from "../events.js";
import type { TaskResult } from "../tasks.js";
import type { OperationEngine } from "./engine.js";
import { systemScope } from "./scope.js";

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
  ) {}

  /**
   * A scheduled stop goes through the user's Stop path; a held lock or an image being made is
   * waited out, never skipped.
   */
  async scheduledStop(task: TaskRecord): Promise<TaskResult> {
    const inst = await this.store.instances.get(task.instanceId);
    if (!inst || inst.inRecycle || inst.schedulerStopAt === null) return { done: true };
    try {
      await this.engine.begin(systemScope(inst), inst.id, "Stop", { force: true }, "scheduler");
      return { done: true };
    } catch (e) {
      const wait = waitsOut(e);
      if (wait !== undefined) return { retryInMs: wait };
      if (e instanceof ApiError && e.code === "InvalidInstanceState") {
        // Still coming up: the stop waits for it. Not running any more: nothing to stop.
        if (inst.state === "Starting" || inst.state === "Rebooting" || inst.state === "Install")
          return { retryInMs: LOCK_RETRY_MS };
        await this.store.tx((r) =>
          r.instances.cas(inst.id, { lockedBy: "any", now: this.clock.now() }, { schedulerStopAt: null }),
        );
        return { done: true };
      }
      throw e;
    }
  }

  /** The 7-day release of a stopped Postpay instance: terminated into the recycle bin. */
  async release(task: TaskRecord): Promise<TaskResult> {
    const inst = await this.store.instances.get(task.instanceId);
    if (!inst || inst.inRecycle || inst.releaseAt === null || inst.releaseAt > this.clock.now())
      return { done: true };
    try {
      await this.engine.begin(systemScope(inst), inst.id, "Terminate", { releaseUDisk: false }, "release");
      return { done: true };
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
    if (!inst) return { done: true };
    try {
      await driver.destroy(inst.id, { releaseDataDisks: inst.releaseUdisk, dataDiskIds: [] });
      return { done: true };
    } catch (e) {
      return { done: true, note: `driver destroy at purge failed: ${(e as Error).message}` };
    }
  }
}
