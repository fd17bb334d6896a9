import type { DiskLimits, GpuTypeSpec } from "../../domain/catalog.js";
import { ApiError, badParam } from "../../domain/errors.js";
import type { DiskRecord } from "../../domain/records.js";
import type { Scope } from "../instances/scope.js";

/**
 * The UDisk spelling of data-disk types (CreateAndAttachCompshareDisk's DiskType, the disk list)
 * and the instance spelling the catalog and Describe's DiskSet use. One disk model: the store keeps
 * the instance spelling, the disk actions translate at the wire.
 */
export const UDISK_TYPES = {
  SSDDataDisk: "CLOUD_SSD",
  RSSDDataDisk: "CLOUD_RSSD",
  DataDisk: "CLOUD_NORMAL",
  EfficiencyDataDisk: "CLOUD_EFFICIENCY",
} as const;

export type UDiskType = keyof typeof UDISK_TYPES;

/** A disk type in the UDisk spelling (an unknown instance type is shown as it is). */
export function udiskTypeOf(diskType: string): string {
  const hit = Object.entries(UDISK_TYPES).find(([, t]) => t === diskType);
  return hit ? hit[0] : diskType;
}

/** Charge types a data disk may be bought with (the instance's own, without Spot). */
export const DISK_CHARGE_TYPES = ["Month", "Day", "Dynamic", "Postpay"] as const;

/** The data-disk type of a request, checked against what the instance's GPU type offers. */
export function dataDiskType(type: GpuTypeSpec, requested: string, param: string): string {
  const offered = type.dataDisk.types.map(udiskTypeOf);
  const mapped = (UDISK_TYPES as Record<string, string>)[requested];
  if (!mapped || !type.dataDisk.types.includes(mapped))
    throw badParam(
      param,
      `${requested} is not offered for ${type.name}; choose one of ${offered.join(", ")}`,
    );
  return mapped;
}

/** A data-disk size within the type's limits. */
export function dataDiskSize(limits: DiskLimits, sizeGB: number, param: string): number {
  if (!Number.isInteger(sizeGB) || sizeGB < limits.minGB || sizeGB > limits.maxGB)
    throw badParam(param, `must be between ${limits.minGB} and ${limits.maxGB} GB`);
  return sizeGB;
}

/**
 * A grow to `sizeGB`: disks only grow (docs, Resize) and stay within the limits of their kind
 * (boot or data) for the instance's GPU type.
 */
export function checkGrow(
  disk: DiskRecord,
  limits: DiskLimits | undefined,
  sizeGB: number,
  param: string,
): void {
  if (sizeGB <= disk.sizeGB) throw badParam(param, `disks only grow: ${disk.id} is ${disk.sizeGB} GB`);
  if (limits && sizeGB > limits.maxGB) throw badParam(param, `must be at most ${limits.maxGB} GB`);
}

/** The first free `/dev/vdX` after the system disk's `/dev/vda`. */
export function nextDrive(taken: string[]): string {
  for (let c = 98; c <= 122; c++) {
    const drive = `/dev/vd${String.fromCharCode(c)}`;
    if (!taken.includes(drive)) return drive;
  }
  throw badParam("UDiskId", "no free device name left on the instance");
}

/** Whether the caller may see this disk: own project, the zone if one was sent. */
export function diskVisible(d: DiskRecord | undefined, scope: Scope): d is DiskRecord {
  return (
    d !== undefined &&
    d.state !== "Deleted" &&
    d.projectId === scope.project.id &&
    (scope.zone === undefined || scope.zone === d.zone)
  );
}

/** The disk, or the not-found error (another project's disk is not found either). */
export function diskOrThrow(d: DiskRecord | undefined, id: string, scope: Scope): DiskRecord {
  if (!diskVisible(d, scope)) throw new ApiError("DiskNotFound", { diskId: id });
  return d;
}

/** Why a detached disk was expected and this one is not (after a guarded update found it moved). */
export function notAvailable(d: DiskRecord, action: string): ApiError {
  if (d.state === "Detaching")
    return new ApiError("DiskDetaching", { diskId: d.id, uhostId: d.instanceId ?? "" });
  const where = d.instanceId ? `${d.state} on ${d.instanceId}` : d.state;
  return new ApiError("DiskNotAvailable", { diskId: d.id, state: where, action });
}
