import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * ResizeCompShareInstance: only Stopped; either Cpu/Memory/Gpu (a legal combination) or
 * DiskId + DiskSpace (grow only), never both. Stays Stopped. DiskSpace is a string in the Go SDK.
 */
export default defineAction({
  name: "ResizeCompShareInstance",
  schema: {
    UHostId: f.str({ required: true }),
    Cpu: f.int({ min: 1 }),
    Memory: f.int({ min: 1024 }),
    Gpu: f.int({ min: 1 }),
    DiskId: f.str(),
    DiskSpace: f.int({ min: 1 }),
    CouponId: f.str(),
  },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    await ctx.services.instances.resize(await ctx.scope(), p.UHostId, {
      cpu: p.Cpu,
      memory: p.Memory,
      gpu: p.Gpu,
      diskId: p.DiskId,
      diskSpace: p.DiskSpace,
    });
    return { UHostId: p.UHostId };
  },
});
