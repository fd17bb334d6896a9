import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * StartCompShareInstance: only Stopped → Starting → Running. `WithoutGpu=true` or `WithoutGpuSpec`
 * starts with no GPU (spec A by default); neither starts as a Resize into no-GPU mode left it.
 */
export default defineAction({
  name: "StartCompShareInstance",
  schema: {
    UHostId: f.str({ required: true }),
    WithoutGpu: f.bool(),
    // The official CLI's `start --without-gpu A|B` (the docs have only WithoutGpu).
    WithoutGpuSpec: f.str({ maxLength: 16 }),
  },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    await ctx.services.instances.start(await ctx.scope(), p.UHostId, {
      withoutGpu: p.WithoutGpu,
      spec: p.WithoutGpuSpec,
    });
    return { UHostId: p.UHostId };
  },
});
