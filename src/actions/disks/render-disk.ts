import type { CatalogIndex } from "../../core/catalog/catalog.js";
import { udiskTypeOf } from "../../core/disks/disk-rules.js";
import { unixSeconds } from "../../domain/clock.js";
import type { DiskRecord } from "../../domain/records.js";

/**
 * One element of DescribeCompshareDisk's `DiskSet`: the fields the official CLI reads
 * (ResourceId, Name, Configuration, DiskType, Status, MountInstance, Zone) and the disk's size,
 * charge type, device and create time. DiskType in the UDisk spelling CreateAndAttach takes.
 */
export function renderDisk(d: DiskRecord, catalog: CatalogIndex) {
  return {
    ResourceId: d.id,
    UDiskId: d.id,
    Name: d.name,
    Configuration: `${d.sizeGB}GB`,
    Size: d.sizeGB,
    DiskType: udiskTypeOf(d.diskType),
    Status: d.state,
    MountInstance: d.instanceId ?? "",
    MountDevice: d.drive,
    Zone: d.zone,
    Region: catalog.regionOf(d.zone)?.region ?? "",
    ChargeType: d.chargeType,
    CreateTime: unixSeconds(d.createdAt),
  };
}

/** One element of DescribeCompshareDisk's `DiskSet`, as the server renders it. */
export type CompshareDisk = ReturnType<typeof renderDisk>;
