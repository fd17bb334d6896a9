import type { ChargeType } from "../../domain/catalog.js";
import type { Clock } from "../../domain/clock.js";
import { ApiError, badParam } from "../../domain/errors.js";
import type { IdGen } from "../../domain/ids.js";
import type { DiskRecord, TaskRecord } from "../../domain/records.js";
import type { Driver } from "../../drivers/driver.js";
import type { Store } from "../../store/store.js";
import type { CatalogIndex } from "../catalog/catalog.js";
import { quote, roundPrice } from "../catalog/pricing.js";
import { recordDiskEvent } from "../events.js";
import { checkName } from "../instances/create.js";
import type { OperationEngine } from "../instances/engine.js";
import type { Scope } from "../instances/scope.js";
import { visibleOrThrow } from "../instances/scope.js";
import type { TaskResult } from "../tasks.js";
import { queueTask } from "../tasks.js";
import {
  DISK_CHARGE_TYPES,
  checkGrow,
  dataDiskSize,
  dataDiskType,
  diskOrThrow,
  notAvailable,
} from "./disk-rules.js";

export interface DiskServiceDeps {
  store: Store;
  engine: OperationEngine;
  catalog: CatalogIndex;
  clock: Clock;
  ids: IdGen;
  /** Wakes the worker (a task was queued). */
  kick: () => void;
}

export interface CreateDiskInput {
  uhostId: string;
  sizeGB: number;
  /** UDisk spelling (SSDDataDisk…), as the wire carries it. */
  diskType: string;
  name: string;
  chargeType: string;
}

/** A price difference per charge-type unit, as the upgrade-price actions answer it. */
export interface PriceDelta {
  price: number;
  original: number;
}

/**
 * Data disks as resources of their own: the list, create-and-attach, attach, detach, resize and
 * delete. Changes that touch an instance go through its operation lock (the disk entries of the
 * operation table); changes to a detached disk are one guarded update on the disk row.
 */
export class DiskService {
  constructor(private readonly d: DiskServiceDeps) {}

  /** The project's data disks, attached and detached; a region narrows to its zones. */
  async list(scope: Scope, f: { instanceId?: string; region?: string }): Promise<DiskRecord[]> {
    const zones =
      scope.zone !== undefined
        ? [scope.zone]
        : f.region !== undefined
          ? (this.d.catalog.region(f.region)?.zones.map((z) => z.zone) ?? [])
          : undefined;
    return this.d.store.disks.list({ projectId: scope.project.id, instanceId: f.instanceId, zones });
  }

  /** CreateAndAttachCompshareDisk: checked against the instance's type, then made with its lock. */
  async createAndAttach(scope: Scope, input: CreateDiskInput): Promise<string> {
    const inst = visibleOrThrow(await this.d.store.instances.get(input.uhostId), input.uhostId, scope);
    const type = this.d.catalog.gpuType(inst.gpuType);
    if (!type) throw badParam("UHostId", `GPU type ${inst.gpuType} is no longer in the catalog`);
    const diskType = dataDiskType(type, input.diskType, "DiskType");
    const sizeGB = dataDiskSize(type.dataDisk, input.sizeGB, "Size");
    if (!(DISK_CHARGE_TYPES as readonly string[]).includes(input.chargeType))
      throw badParam(
        "ChargeType",
        `${input.chargeType} is not offered for disks; choose one of ${DISK_CHARGE_TYPES.join(", ")}`,
      );
    const name = checkName(input.name, "Name");
    const id = this.d.ids.next("bs");
    await this.d.engine.begin(scope, inst.id, "AttachDisk", {
      diskId: id,
      create: { id, sizeGB, diskType, name, chargeType: input.chargeType },
    });
    this.d.kick();
    return id;
  }

  /** AttachCompshareDisk: a detached disk of the instance's zone. */
  async attach(scope: Scope, uhostId: string, diskId: string): Promise<void> {
    diskOrThrow(await this.d.store.disks.get(diskId), diskId, { ...scope, zone: undefined });
    await this.d.engine.begin(scope, uhostId, "AttachDisk", { diskId });
  }

  /** DetachCompshareDisk: only from a Stopped instance, never its system disk. */
  async detach(scope: Scope, uhostId: string, diskId: string, device?: string): Promise<void> {
    await this.d.engine.begin(scope, uhostId, "DetachDisk", { diskId, device });
  }

  /**
   * ResizeCompShareDisk: an attached disk through its Stopped instance's lock; a detached one with
   * one guarded update (within the largest size its type is sold with in its zone).
   */
  async resize(scope: Scope, diskId: string, sizeGB: number, uhostId?: string): Promise<void> {
    const d = diskOrThrow(await this.d.store.disks.get(diskId), diskId, scope);
    if (uhostId !== undefined && d.instanceId !== uhostId)
      throw new ApiError("DiskNotAttached", { diskId, uhostId });
    if (d.instanceId !== null) {
      await this.d.engine.begin(scope, d.instanceId, "ResizeDisk", { diskId, sizeGB });
      return;
    }
    const limits = this.detachedLimits(d);
    checkGrow(d, limits, sizeGB, "Size");
    const now = this.d.clock.now();
    await this.d.store.tx(async (r) => {
      const n = await r.disks.update({ id: diskId, states: ["Available"], smallerThan: sizeGB }, { sizeGB });
      if (n === 1) {
        await recordDiskEvent(r, d, "disk.resized", now, { from: d.sizeGB, to: sizeGB });
        return;
      }
      const current = (await r.disks.get(diskId)) ?? d;
      if (current.state !== "Available") throw notAvailable(current, "ResizeCompShareDisk");
      checkGrow(current, limits, sizeGB, "Size");
    });
  }

  /**
   * DeleteCompshareDisk: a detached disk only. The row becomes a tombstone and a task removes its
   * storage, in one transaction; deleting a deleted disk succeeds, one still detaching gets 8434
   * (which the official CLI retries on).
   */
  async delete(scope: Scope, diskId: string): Promise<void> {
    const now = this.d.clock.now();
    await this.d.store.tx(async (r) => {
      const d = await r.disks.get(diskId);
      if (d?.state === "Deleted" && d.projectId === scope.project.id) return;
      const disk = diskOrThrow(d, diskId, scope);
      const n = await r.disks.update(
        { id: diskId, states: ["Available"] },
        { state: "Deleted", keptFor: null },
      );
      if (n !== 1) {
        const current = (await r.disks.get(diskId)) ?? disk;
        // A concurrent delete won (PostgreSQL re-reads the row once its lock is free): done too.
        if (current.state === "Deleted") return;
        throw notAvailable(current, "DeleteCompshareDisk");
      }
      await queueTask(r, this.d.ids, { kind: "disk-release", subject: diskId, dueAt: now }, now);
      await recordDiskEvent(r, disk, "disk.deleted", now);
    });
    this.d.kick();
  }

  /** GetCompShareAttachedDiskUpgradePrice: what growing an attached disk adds per charge unit. */
  async upgradePrice(scope: Scope, uhostId: string, diskId: string, sizeGB: number): Promise<PriceDelta> {
    const inst = visibleOrThrow(await this.d.store.instances.get(uhostId), uhostId, scope);
    // The disk is found by its project, whatever zone was sent (the instance's zone was checked).
    const d = diskOrThrow(await this.d.store.disks.get(diskId), diskId, { ...scope, zone: undefined });
    if (d.instanceId !== inst.id) throw new ApiError("DiskNotAttached", { diskId, uhostId });
    const type = this.d.catalog.gpuType(inst.gpuType);
    checkGrow(d, d.isBoot ? type?.bootDisk : type?.dataDisk, sizeGB, "DiskSpace");
    const chargeType = (
      (DISK_CHARGE_TYPES as readonly string[]).includes(d.chargeType) ? d.chargeType : inst.chargeType
    ) as ChargeType;
    const at = (size: number) => this.diskPrice(inst.gpuType, chargeType, d, size);
    const delta = roundPrice(at(sizeGB) - at(d.sizeGB));
    return { price: delta, original: delta };
  }

  /** The `disk-release` task: the runtime drops a deleted disk's storage (retried until it can). */
  async release(task: TaskRecord, driver: Driver): Promise<TaskResult> {
    await driver.deleteDisk?.(task.instanceId);
    return { done: true };
  }

  /** A disk's price per charge-type unit at a size, from the one price function. */
  private diskPrice(gpuType: string, chargeType: ChargeType, d: DiskRecord, sizeGB: number): number {
    const q = quote(
      this.d.catalog.catalog,
      {
        gpuType,
        gpu: 0,
        cpu: 0,
        chargeType,
        // Only the disk's part is read: no GPU price needed for it.
        withoutGpu: true,
        disks: [{ isBoot: d.isBoot, type: d.diskType, sizeGB }],
      },
      this.d.clock.now(),
    );
    return q ? (d.isBoot ? q.systemDisks : q.dataDisks) : 0;
  }

  /** The limits a detached disk grows within: the largest its type is sold with in its zone. */
  private detachedLimits(d: DiskRecord) {
    const offering = this.d.catalog.catalog.gpuTypes.filter(
      (g) => g.zones.includes(d.zone) && g.dataDisk.types.includes(d.diskType),
    );
    if (offering.length === 0) return undefined;
    return offering.map((g) => g.dataDisk).reduce((a, b) => (b.maxGB > a.maxGB ? b : a));
  }
}
