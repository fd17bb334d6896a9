import type { Clock } from "../../domain/clock.js";
import type { InstanceRecord } from "../../domain/records.js";
import type { Store } from "../../store/store.js";
import { recordInstanceEvent } from "../events.js";
import type { OperationEngine } from "./engine.js";

/**
 * What the reconciler needs from the store: which instances, disks and images exist (garbage
 * collection of runtimes), which ones should be running (the sweep), and the one transition it may make itself.
 */
export class InstanceReconciliation {
  constructor(
    private readonly store: Store,
    private readonly engine: OperationEngine,
    private readonly clock: Clock,
  ) {}

  async knownIds(): Promise<Set<string>> {
    return new Set(await this.store.instances.allIds());
  }

  async knownDiskIds(): Promise<Set<string>> {
    return new Set(await this.store.disks.allIds());
  }

  /** Custom images whose runtime artifact must stay (being made or Available, not deleted). */
  async knownImageIds(): Promise<Set<string>> {
    return new Set(await this.store.images.liveIds());
  }

  runningIds(): Promise<string[]> {
    return this.store.instances.runningIdle();
  }

  /**
   * The runtime of an instance died or vanished out of band. A Running instance with no operation
   * in flight becomes Stopped, its GPUs and CPU/memory released, the reason in Remark. One with an
   * operation in flight is left to that operation (a Stop makes it die).
   */
  async observeGone(id: string, why: string): Promise<boolean> {
    const now = this.clock.now();
    return this.store.tx(async (r) => {
      const inst = await r.instances.get(id);
      if (!inst || inst.inRecycle || inst.state !== "Running") return false;
      const patch: Partial<InstanceRecord> = {
        state: "Stopped",
        holdsCompute: false,
        stoppedAt: now,
        updatedAt: now,
        schedulerStopAt: null,
        lastError: why,
      };
      if (!(await r.instances.cas(id, { states: ["Running"], inRecycle: false, now }, patch))) return false;
      await this.engine.releaseCompute(r, inst);
      await r.tasks.deleteOf(id, "scheduled-stop");
      await recordInstanceEvent(r, inst, "instance.stopped-out-of-band", now, {
        state: "Stopped",
        reason: why,
      });
      return true;
    });
  }
}
