import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * Extension: which Actions the instance accepts now and, for the others, the RetCode and message the
 * call would get (wrong state, the operation lock, spot needs Force, no GPU free on its host…), by the
 * same rules the calls apply. The console shows them before the click.
 */
export default defineAction({
  name: "DescribeCompShareInstanceActions",
  schema: { UHostId: f.str({ required: true, maxLength: 64 }) },
  region: "optional",
  zone: "optional",
  async handler(ctx, p) {
    const rules = await ctx.services.instances.actionRules(await ctx.scope(), p.UHostId);
    return {
      ActionSet: rules.map((r) => ({
        Action: r.action,
        Variant: r.variant,
        Allowed: r.allowed,
        RetCode: r.retCode,
        Message: r.message,
      })),
    };
  },
});
