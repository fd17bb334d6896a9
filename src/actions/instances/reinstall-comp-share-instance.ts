import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** ReinstallCompShareInstance: only Stopped; system disk rebuilt from the image, back to Stopped. */
export default defineAction({
  name: "ReinstallCompShareInstance",
  schema: {
    UHostId: f.str({ required: true }),
    CompShareImageId: f.str({ required: true }),
    Password: f.str(),
    CouponId: f.str(),
  },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    await ctx.services.instances.reinstall(await ctx.scope(), p.UHostId, p.CompShareImageId, p.Password);
    return { UHostId: p.UHostId };
  },
});
