import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * ModifyCompShareImageShareAccount: shares one of the caller's images with accounts, or stops
 * sharing it, by account number (`AddAccounts.N`, `RemoveAccounts.N`, at most 10 each, not both
 * empty). Numbers of no account, or the caller's own, come back in `InvalidAccounts`; the rest take
 * effect. The accounts it is shared with see it in DescribeCompShareSharingImages and may create
 * and reinstall instances from it.
 */
export default defineAction({
  name: "ModifyCompShareImageShareAccount",
  schema: {
    CompShareImageId: f.str({ required: true }),
    AddAccounts: f.arr(f.int({ min: 0 }), { maxItems: 10 }),
    RemoveAccounts: f.arr(f.int({ min: 0 }), { maxItems: 10 }),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    const invalid = await ctx.services.images.modifyShares(
      await ctx.scope(),
      p.CompShareImageId,
      p.AddAccounts ?? [],
      p.RemoveAccounts ?? [],
    );
    return { InvalidAccounts: invalid };
  },
});
