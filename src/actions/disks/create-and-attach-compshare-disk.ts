import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * CreateAndAttachCompshareDisk: a new data disk attached to a Running or Stopped instance, with its
 * lock; the state stays. Size and DiskType within the instance's GPU type's data-disk offer. On the
 * docker driver a stopped instance gets the volume at /mnt/<UDiskId> at once, a running one at its
 * next start (a running container cannot take a new mount).
 */
export default defineAction({
  name: "CreateAndAttachCompshareDisk",
  schema: {
    UHostId: f.str({ required: true }),
    Size: f.int({ required: true, min: 1 }),
    DiskType: f.str(),
    Name: f.str({ required: true }),
    ChargeType: f.str(),
    Quantity: f.int({ min: 0, max: 120 }),
    CouponId: f.str(),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    const id = await ctx.services.disks.createAndAttach(await ctx.scope(), {
      uhostId: p.UHostId,
      sizeGB: p.Size,
      diskType: p.DiskType ?? "SSDDataDisk",
      name: p.Name,
      chargeType: p.ChargeType ?? "Month",
    });
    return { UDiskId: id, UHostId: p.UHostId };
  },
});
