import { defineAction } from "../types.js";
import { priceHandler, priceSchema } from "./price-common.js";

/** GetCompShareInstanceUserPrice: the caller's prices (no per-account discounts yet: the list prices). */
export default defineAction({
  name: "GetCompShareInstanceUserPrice",
  schema: priceSchema,
  region: "required",
  zone: "optional",
  handler: priceHandler,
});
