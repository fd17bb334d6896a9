import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** StartCompShareInstance: only Stopped → Starting → Running; WithoutGpu starts with no GPU. */
export default defineAction({
  name: "StartCompShareInstance",
  schema: { UHostId: f.str({ required: true }), WithoutGpu: f.bool() },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    await ctx.services.instances.operate(await ctx.scope(), p.UHostId, "Start", {
      withoutGpu: p.WithoutGpu ?? false,
    });
    return { UHostId: p.UHostId };
  },
});
