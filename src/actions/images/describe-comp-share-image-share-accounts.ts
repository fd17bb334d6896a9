import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * DescribeCompShareImageShareAccounts: the accounts one of the caller's images is shared with.
 * `AccountId` is the account number as a string: the Go SDK's `Projects` model types it so (the
 * docs say Integer).
 */
export default defineAction({
  name: "DescribeCompShareImageShareAccounts",
  schema: { CompShareImageId: f.str({ required: true }) },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    const accounts = await ctx.services.images.shareAccounts(await ctx.scope(), p.CompShareImageId);
    return { AccountSet: accounts.map((a) => ({ AccountId: String(a.number), AccountName: a.name })) };
  },
});
