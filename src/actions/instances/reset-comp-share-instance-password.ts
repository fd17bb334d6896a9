import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * ResetCompShareInstancePassword: Password is base64; VM instances only when Stopped; a running
 * container instance gets it applied inside (or a clear error when its image cannot take it).
 */
export default defineAction({
  name: "ResetCompShareInstancePassword",
  schema: { UHostId: f.str({ required: true }), Password: f.str({ required: true }) },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    await ctx.services.instances.resetPassword(await ctx.scope(), p.UHostId, p.Password);
    return { UHostId: p.UHostId };
  },
});
