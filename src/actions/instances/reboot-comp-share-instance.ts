import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** RebootCompShareInstance: only Running → Rebooting → Running. */
export default defineAction({
  name: "RebootCompShareInstance",
  schema: { UHostId: f.str({ required: true }) },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    await ctx.services.instances.operate(await ctx.scope(), p.UHostId, "Reboot", {});
    return { UHostId: p.UHostId };
  },
});
