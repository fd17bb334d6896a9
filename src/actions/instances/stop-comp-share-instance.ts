import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** StopCompShareInstance: only Running → Stopping → Stopped; spot instances need Force=true. */
export default defineAction({
  name: "StopCompShareInstance",
  schema: { UHostId: f.str({ required: true }), Force: f.bool() },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    await ctx.services.instances.operate(await ctx.scope(), p.UHostId, "Stop", { force: p.Force ?? false });
    return { UHostId: p.UHostId };
  },
});
