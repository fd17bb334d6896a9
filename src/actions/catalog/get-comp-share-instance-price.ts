import { defineAction } from "../types.js";
import { priceHandler, priceSchema } from "./price-common.js";

/** GetCompShareInstancePrice: list prices per charge type (all offered when ChargeType is omitted). */
export default defineAction({
  name: "GetCompShareInstancePrice",
  schema: priceSchema,
  region: "required",
  zone: "optional",
  handler: priceHandler,
});
