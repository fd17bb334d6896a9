import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * TerminateCompShareCustomImage: deletes one of the caller's images (not while it is being made).
 * Its shares end with it; instances made from it keep running, and the runtime keeps what they
 * need until the last of them is gone.
 */
export default defineAction({
  name: "TerminateCompShareCustomImage",
  schema: { CompShareImageId: f.str({ required: true }) },
  region: "required",
  // The SDKs send Zone; the official CLI's `image delete` only when given.
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.images.terminate(await ctx.scope(), p.CompShareImageId);
    return {};
  },
});
