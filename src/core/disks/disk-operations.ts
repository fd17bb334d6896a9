import { ApiError, badParam } from "../../domain/errors.js";
import type { InstanceRecord } from "../../domain/records.js";
import type { Repos } from "../../store/store.js";
import { maxDataDisks } from "../catalog/spec-rules.js";
import { recordDiskEvent } from "../events.js";
import type { OperationEnv } from "../instances/operation.js";
import { defineOperation } from "../instances/operation.js";
import { checkGrow, nextDrive, notAvailable } from "./disk-rules.js";

/** A new disk CreateAndAttachCompshareDisk makes (its id is chosen by the caller, to answer with). */
export interface NewDisk {
  id: string;
  sizeGB: number;
  /** Instance spelling (CLOUD_SSD…). */
  diskType: string;
  name: string;
  chargeType: string;
}

export interface AttachInput {
  diskId: string;
  /** Present: the disk is made now (CreateAndAttach); absent: an existing detached disk. */
  create?: NewDisk;
}

export interface DetachInput {
  diskId: string;
  /** The device the caller believes it is (`/dev/vdb`); checked when sent. */
  device?: string;
}

/** Data disks attached to an instance (any attached state), for the count and the drive letters. */
async function attachedData(r: Repos, inst: InstanceRecord) {
  return (await r.disks.ofInstances([inst.id])).filter((d) => !d.isBoot && d.state !== "Deleted");
}

async function takeSlot(r: Repos, inst: InstanceRecord, env: OperationEnv): Promise<string> {
  const attached = await attachedData(r, inst);
  const type = env.catalog.gpuType(inst.gpuType);
  const max = type ? maxDataDisks(type) : 4;
  if (attached.length >= max)
    throw new ApiError("DiskLimitExceeded", {
      uhostId: inst.id,
      count: attached.length,
      gpuType: inst.gpuType,
    });
  return nextDrive(attached.map((d) => d.drive));
}

/**
 * Attach (and CreateAndAttach): the disk joins the instance's spec with the instance's lock held;
 * the instance keeps its state. The driver creates the disk's storage and, on a stopped instance,
 * mounts it now; a running one gets the mount at its next start (README, docker driver).
 */
export const attachDisk = defineOperation<AttachInput>({
  action: "AttachCompshareDisk",
  from: ["Running", "Stopped"],
  keepsState: true,
  async reserve(r, inst, input, env) {
    const drive = await takeSlot(r, inst, env);
    if (input.create) {
      const c = input.create;
      const disk = {
        id: c.id,
        accountId: inst.accountId,
        projectId: inst.projectId,
        instanceId: inst.id,
        zone: inst.zone,
        isBoot: false,
        diskType: c.diskType,
        sizeGB: c.sizeGB,
        drive,
        state: "Attaching" as const,
        name: c.name,
        chargeType: c.chargeType,
        keptFor: null,
        createdAt: env.now,
      };
      await r.disks.insert(disk);
      await recordDiskEvent(r, disk, "disk.created", env.now, { uhostId: inst.id, sizeGB: c.sizeGB });
      await recordDiskEvent(r, disk, "disk.attaching", env.now, { uhostId: inst.id, drive });
      return;
    }
    const d = await r.disks.get(input.diskId);
    if (!d || d.state === "Deleted" || d.projectId !== inst.projectId)
      throw new ApiError("DiskNotFound", { diskId: input.diskId });
    if (d.zone !== inst.zone)
      throw new ApiError("DiskZoneMismatch", {
        diskId: d.id,
        diskZone: d.zone,
        uhostId: inst.id,
        zone: inst.zone,
      });
    const n = await r.disks.update(
      { id: d.id, states: ["Available"] },
      { instanceId: inst.id, drive, state: "Attaching", keptFor: null },
    );
    if (n !== 1) throw notAvailable((await r.disks.get(d.id)) ?? d, "AttachCompshareDisk");
    await recordDiskEvent(r, d, "disk.attaching", env.now, { uhostId: inst.id, drive });
  },
  async drive(driver, job) {
    await driver.syncDisks?.(await job.spec());
    return undefined;
  },
  async done(r, inst, env) {
    for (const d of (await r.disks.ofInstances([inst.id])).filter((x) => x.state === "Attaching")) {
      await r.disks.update({ id: d.id, states: ["Attaching"] }, { state: "InUse" });
      await recordDiskEvent(r, d, "disk.attached", env.now, { uhostId: inst.id, drive: d.drive });
    }
    return undefined;
  },
  // A runtime that cannot take the disk leaves it detached (a new one too: it exists, unattached).
  async undo(r, inst) {
    await r.disks.update(
      { instanceId: inst.id, states: ["Attaching"] },
      { state: "Available", instanceId: null, drive: "" },
    );
  },
});

/**
 * Detach: only from a Stopped instance, never the system disk (docs). The driver unmounts it now
 * (docker recreates the stopped container without the volume), so a detached disk's storage is
 * free to attach elsewhere or delete; meanwhile it is `Detaching` (RetCode 8434 on delete).
 */
export const detachDisk = defineOperation<DetachInput>({
  action: "DetachCompshareDisk",
  from: ["Stopped"],
  keepsState: true,
  async reserve(r, inst, input, env) {
    const d = await r.disks.get(input.diskId);
    if (!d || d.state === "Deleted" || d.projectId !== inst.projectId)
      throw new ApiError("DiskNotFound", { diskId: input.diskId });
    if (d.instanceId !== inst.id) throw new ApiError("DiskNotAttached", { diskId: d.id, uhostId: inst.id });
    if (d.isBoot)
      throw new ApiError("SystemDiskNotDetachable", { diskId: d.id, uhostId: inst.id, action: "detached" });
    if (input.device !== undefined && input.device !== d.drive)
      throw badParam("Device", `disk ${d.id} is ${d.drive} on ${inst.id}, not ${input.device}`);
    const n = await r.disks.update(
      { id: d.id, instanceId: inst.id, states: ["InUse"] },
      { state: "Detaching" },
    );
    if (n !== 1) throw notAvailable((await r.disks.get(d.id)) ?? d, "DetachCompshareDisk");
    await recordDiskEvent(r, d, "disk.detaching", env.now, { uhostId: inst.id });
  },
  async drive(driver, job) {
    await driver.syncDisks?.(await job.spec());
    return undefined;
  },
  async done(r, inst, env) {
    for (const d of (await r.disks.ofInstances([inst.id])).filter((x) => x.state === "Detaching")) {
      await r.disks.update(
        { id: d.id, states: ["Detaching"] },
        { state: "Available", instanceId: null, drive: "" },
      );
      await recordDiskEvent(r, d, "disk.detached", env.now, { uhostId: inst.id });
    }
    return undefined;
  },
  async undo(r, inst) {
    await r.disks.update({ instanceId: inst.id, states: ["Detaching"] }, { state: "InUse" });
  },
});

/**
 * Grows a disk attached to a stopped instance (its lock held): the one rule for
 * ResizeCompShareInstance's DiskId+DiskSpace and ResizeCompShareDisk. Within the limits of its
 * kind (boot or data) for the instance's GPU type; disks only grow.
 */
export async function growDisk(
  r: Repos,
  inst: InstanceRecord,
  diskId: string,
  sizeGB: number,
  env: OperationEnv,
  params: { disk: string; size: string },
): Promise<void> {
  const d = await r.disks.get(diskId);
  if (!d || d.instanceId !== inst.id || d.state !== "InUse")
    throw badParam(params.disk, `disk ${diskId} is not attached to ${inst.id}`);
  const type = env.catalog.gpuType(inst.gpuType);
  checkGrow(d, d.isBoot ? type?.bootDisk : type?.dataDisk, sizeGB, params.size);
  await r.disks.update({ id: d.id, instanceId: inst.id, smallerThan: sizeGB }, { sizeGB });
  await recordDiskEvent(r, d, "disk.resized", env.now, { from: d.sizeGB, to: sizeGB, uhostId: inst.id });
}

/**
 * ResizeCompShareDisk of an attached disk: only while its instance is Stopped (docs), with the
 * instance's lock, through the same Resizing state as ResizeCompShareInstance's disk grow. A
 * runtime sees the new size at the next start (docker volumes have no size: accounting only).
 */
export const resizeDisk = defineOperation<{ diskId: string; sizeGB: number }>({
  action: "ResizeCompShareDisk",
  from: ["Stopped"],
  during: "Resizing",
  to: "Stopped",
  onFail: "Stopped",
  async reserve(r, inst, input, env) {
    await growDisk(r, inst, input.diskId, input.sizeGB, env, { disk: "UDiskId", size: "Size" });
  },
  drive: async () => undefined,
});
