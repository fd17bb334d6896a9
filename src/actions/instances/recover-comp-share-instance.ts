import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** Extension: brings an instance back from the recycle bin, same id, Stopped, fresh system disk. */
export default defineAction({
  name: "RecoverCompShareInstance",
  schema: { UHostId: f.str({ required: true }) },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.instances.recover(await ctx.scope(), p.UHostId);
    return { UHostId: p.UHostId };
  },
});
