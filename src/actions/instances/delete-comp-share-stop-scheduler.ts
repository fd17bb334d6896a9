import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** DeleteCompShareStopScheduler: cancels the scheduled stop (idempotent when none is set). */
export default defineAction({
  name: "DeleteCompShareStopScheduler",
  schema: { UHostId: f.str({ required: true }) },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.instances.deleteStopScheduler(await ctx.scope(), p.UHostId);
    return { UHostId: p.UHostId };
  },
});
