import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * ResizeCompShareInstance: only Stopped; one of Cpu/Memory/Gpu (a legal combination, which also
 * leaves no-GPU mode), DiskId + DiskSpace (grow only), or WithoutGpuSpec (its next Start runs without
 * GPU). Stays Stopped. DiskSpace is a string in the Go SDK.
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
    // No-GPU mode: the official CLI sends WithoutGpuSpec A|B, the docs a WithoutGpu boolean (= A).
    WithoutGpuSpec: f.str({ maxLength: 16 }),
    WithoutGpu: f.bool(),
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
      withoutGpuSpec: p.WithoutGpuSpec ?? (p.WithoutGpu === true ? "A" : undefined),
    });
    return { UHostId: p.UHostId };
  },
});
