import type { InstanceReconciliation } from "../core/instances/reconcile.js";
import type { Driver } from "../drivers/driver.js";
import type { Logger } from "../log.js";

/** What the reconciler needs beyond the driver interface: the docker driver's own inventory. */
export interface Inventory {
  volumes(): Promise<string[]>;
  removeDataVolume(diskId: string): Promise<void>;
  /** Instance ids that have a snapshot image (taken when their GPU set changed). */
  snapshots(): Promise<string[]>;
  removeSnapshot(id: string): Promise<void>;
}

/**
 * Compares driver reality with the store. Instances whose runtime died, was stopped or removed out
 * of band are moved to Stopped with their GPUs released (events, plus a periodic sweep for anything
 * missed); runtimes carrying our label that the store does not know are removed at start. Instances
 * with an operation in flight are skipped: their operation owns them.
 */
export class Reconciler {
  private stopWatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly driver: Driver,
    private readonly instances: InstanceReconciliation,
    private readonly log: Logger,
    private readonly inventory?: Inventory,
    private readonly sweepMs = 10_000,
  ) {}

  async start(): Promise<void> {
    // An engine that is down at start must not keep the API down: transitions fail with the reason
    // until it is back, and the next sweep catches up.
    await this.collectGarbage().catch((e) => this.log.warn("could not list runtimes at start", { err: e }));
    this.stopWatch = this.driver.watch?.(
      (id, why) => {
        this.observe(id, why).catch((e) => this.log.warn("reconcile failed", { instance: id, err: e }));
      },
      // The sweep still catches what the stream misses; the log says why the stream is failing.
      (e) => this.log.warn("watching the runtime failed; retrying", { err: e }),
    );
    this.timer = setInterval(() => {
      this.sweep().catch((e) => this.log.warn("reconcile sweep failed", { err: e }));
    }, this.sweepMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopWatch?.();
    if (this.timer) clearInterval(this.timer);
  }

  /** Removes runtimes, data volumes and custom images with our label that the store does not know. */
  async collectGarbage(): Promise<{
    containers: number;
    volumes: number;
    snapshots: number;
    images: number;
  }> {
    const known = await this.instances.knownIds();
    let containers = 0;
    for (const id of await this.driver.list()) {
      if (known.has(id)) continue;
      await this.driver.destroy(id, { releaseDataDisks: false, dataDiskIds: [] });
      containers++;
    }
    let volumes = 0;
    let snapshots = 0;
    if (this.inventory) {
      // Read again: the containers removed above took their snapshots with them.
      for (const id of await this.inventory.snapshots()) {
        if (known.has(id)) continue;
        await this.inventory.removeSnapshot(id);
        snapshots++;
      }
      const disks = await this.instances.knownDiskIds();
      for (const diskId of await this.inventory.volumes()) {
        if (disks.has(diskId)) continue;
        await this.inventory.removeDataVolume(diskId);
        volumes++;
      }
    }
    // Images of deleted or failed jobs, or made before a crash the store never heard of. The driver
    // keeps one that a container still uses (it goes with the last of them).
    let images = 0;
    if (this.driver.listImages && this.driver.removeImage) {
      const live = await this.instances.knownImageIds();
      for (const imageId of await this.driver.listImages()) {
        if (live.has(imageId)) continue;
        await this.driver.removeImage(imageId, null);
        images++;
      }
    }
    if (containers + volumes + snapshots + images > 0)
      this.log.warn("removed runtimes unknown to the store", { containers, volumes, snapshots, images });
    return { containers, volumes, snapshots, images };
  }

  /** Checks every instance the store believes Running. */
  async sweep(): Promise<number> {
    let fixed = 0;
    for (const id of await this.instances.runningIds()) {
      const seen = await this.driver.inspect(id);
      if (seen.running) continue;
      if (
        await this.instances.observeGone(
          id,
          seen.exists ? "found stopped outside opencompshare" : "runtime removed outside opencompshare",
        )
      )
        fixed++;
    }
    return fixed;
  }

  private async observe(id: string, why: string): Promise<void> {
    const seen = await this.driver.inspect(id);
    if (seen.running) return;
    if (await this.instances.observeGone(id, why))
      this.log.warn("instance stopped out of band", { instance: id, why });
  }
}
