import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * GetCompShareRefundPrice: per instance, what deleting it now refunds — the unused prepaid part
 * (Month/Day, instance and disks); 0 for the hourly charge types. An instance that is not found
 * gets its own Code (8039) and message rather than failing the call. The docs name the message
 * `Message`, the Go SDK `ErrMessage`: both are emitted.
 */
export default defineAction({
  name: "GetCompShareRefundPrice",
  schema: { UHostIds: f.arr(f.str(), { required: true, maxItems: 100 }) },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    const quotes = await ctx.services.instances.refundPrices(await ctx.scope(), [...new Set(p.UHostIds)]);
    return {
      RefundPriceSet: quotes.map((q) => ({
        UHostId: q.uhostId,
        Code: q.code,
        Message: q.message,
        ErrMessage: q.message,
        RefundPrice: q.refund,
      })),
    };
  },
});
