import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * ResizeCompShareDisk: grow only. An attached disk only while its instance is Stopped (with its
 * lock, through Resizing, as ResizeCompShareInstance's disk grow); a detached disk at once.
 * `UHostId`, when sent, must be the instance the disk is attached to.
 */
export default defineAction({
  name: "ResizeCompShareDisk",
  schema: {
    UDiskId: f.str({ required: true }),
    Size: f.int({ required: true, min: 1 }),
    UHostId: f.str(),
    CouponId: f.str(),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.disks.resize(await ctx.scope(), p.UDiskId, p.Size, p.UHostId);
    return { UDiskId: p.UDiskId };
  },
});
