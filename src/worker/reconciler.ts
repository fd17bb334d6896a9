import type { FleetChange } from "../core/instances/fleet.js";
import type { InstanceReconciliation } from "../core/instances/reconcile.js";
import type { Driver, FleetNode } from "../drivers/driver.js";
import type { Logger } from "../log.js";

/** What the reconciler needs beyond the driver interface: a real driver's own inventory. */
export interface Inventory {
  volumes(): Promise<string[]>;
  removeDataVolume(diskId: string): Promise<void>;
  /** Instance ids that have a snapshot image (the docker driver's, taken when their GPU set changed). */
  snapshots?(): Promise<string[]>;
  removeSnapshot?(id: string): Promise<void>;
}

/** Where a driver's fleet goes (core's FleetSync). */
export interface FleetSink {
  apply(nodes: FleetNode[]): Promise<FleetChange>;
}

/**
 * Compares driver reality with the store. Instances whose runtime died, was stopped or removed out
 * of band are moved to Stopped with their GPUs released (events, plus a periodic sweep for anything
 * missed); runtimes carrying our label that the store does not know are removed at start. Instances
 * with an operation in flight are skipped: their operation owns them.
 */
export class Reconciler {
  private stopWatch: (() => void) | undefined;
  private stopFleet: (() => void) | undefined;
  /** Fleet reports are applied one at a time, the latest winning over any still queued. */
  private fleetQueue: { running: boolean; next?: FleetNode[]; applied?: string } = { running: false };
  /** GPU nodes last left out of the hosts, with why. */
  private skipped = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly driver: Driver,
    private readonly instances: InstanceReconciliation,
    private readonly log: Logger,
    private readonly inventory?: Inventory,
    private readonly sweepMs = 10_000,
    private readonly fleet?: FleetSink,
  ) {}

  async start(): Promise<void> {
    // An engine that is down at start must not keep the API down: transitions fail with the reason
    // until it is back, and the next sweep catches up.
    await this.collectGarbage().catch((e) => this.log.warn("could not list runtimes at start", { err: e }));
    await this.syncFleet();
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
    this.stopFleet?.();
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Brings the hosts in line with the driver's fleet now, then whenever it changes (a node joins,
   * leaves or goes NotReady; other workloads take or free room). A cluster that cannot be read at
   * start keeps the hosts of the last run until the watch gets through.
   */
  private async syncFleet(): Promise<void> {
    const { driver, fleet } = this;
    if (!fleet || !driver.fleet) return;
    try {
      const nodes = await driver.fleet();
      this.logFleet(await fleet.apply(nodes));
      this.fleetQueue.applied = JSON.stringify(nodes);
    } catch (e) {
      this.log.warn("could not read the fleet at start; hosts stay as last seen", { err: e });
    }
    this.stopFleet = driver.watchFleet?.(
      (nodes) => this.queueFleet(nodes),
      (e) => this.log.warn("watching the fleet failed; retrying", { err: e }),
    );
  }

  private queueFleet(nodes: FleetNode[]): void {
    const q = this.fleetQueue;
    q.next = nodes;
    if (q.running || !this.fleet) return;
    q.running = true;
    const fleet = this.fleet;
    void (async () => {
      while (q.next) {
        const batch = q.next;
        q.next = undefined;
        // Other workloads' pods come and go all the time; most changes leave every node's room as it
        // was, and need no transaction.
        const key = JSON.stringify(batch);
        if (key === q.applied) continue;
        await fleet.apply(batch).then(
          (c) => {
            q.applied = key;
            this.logFleet(c);
          },
          (e) => this.log.warn("could not apply the fleet to the store", { err: e }),
        );
      }
      q.running = false;
    })();
  }

  private logFleet(c: FleetChange): void {
    if (c.live.length) this.log.info("hosts available", { hosts: c.live });
    for (const r of c.retired) this.log.warn("host unavailable", { host: r.id, reason: r.reason });
    // Said once per node and reason: an operator whose GPU node does not show learns why.
    const now = new Map(c.skipped.map((s) => [s.name, s.reason]));
    for (const [node, reason] of now) {
      if (this.skipped.get(node) !== reason) this.log.warn("GPU node is not a host", { node, reason });
    }
    this.skipped = now;
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
      for (const id of (await this.inventory.snapshots?.()) ?? []) {
        if (known.has(id)) continue;
        await this.inventory.removeSnapshot?.(id);
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
          seen.why ??
            (seen.exists ? "found stopped outside opencompshare" : "runtime removed outside opencompshare"),
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
