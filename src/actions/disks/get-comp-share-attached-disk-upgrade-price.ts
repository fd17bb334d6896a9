import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * GetCompShareAttachedDiskUpgradePrice: what growing an attached disk to DiskSpace GB adds per
 * charge-type unit of the disk, from the same price function as every other price. DiskSpace is a
 * string in the Go SDK; both forms are accepted. No snapshot service here: Snapshot is 0.
 */
export default defineAction({
  name: "GetCompShareAttachedDiskUpgradePrice",
  schema: {
    UHostId: f.str({ required: true }),
    DiskId: f.str({ required: true }),
    DiskSpace: f.int({ required: true, min: 1 }),
    BackupMode: f.str({ oneOf: ["NONE", "DATAARK", "SNAPSHOT"] }),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    const q = await ctx.services.disks.upgradePrice(await ctx.scope(), p.UHostId, p.DiskId, p.DiskSpace);
    const detail = (udisk: number) => ({ UDisk: udisk, Snapshot: 0 });
    return {
      Price: q.price,
      OriginalPrice: q.original,
      ListPrice: q.original,
      PriceDetail: detail(q.price),
      OriginalPriceDetail: detail(q.original),
      ListPriceDetail: detail(q.original),
    };
  },
});
