import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** ModifyCompShareInstanceName: ≤ 63 characters of CJK, letters, digits and `_ . , : -`. */
export default defineAction({
  name: "ModifyCompShareInstanceName",
  schema: { UHostId: f.str({ required: true }), Name: f.str({ required: true }) },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.instances.rename(await ctx.scope(), p.UHostId, p.Name);
    return { UHostId: p.UHostId };
  },
});
