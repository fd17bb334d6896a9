import { badParam, missingParam } from "../../domain/errors.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * UpdateCompShareStopScheduler: creates or moves the scheduled stop. The time is `StopTime` in the
 * SDKs and `SchedulerStopTime` in the docs (§6); either is accepted, both must agree if both come.
 */
export default defineAction({
  name: "UpdateCompShareStopScheduler",
  schema: {
    UHostId: f.str({ required: true }),
    StopTime: f.int({ min: 0 }),
    SchedulerStopTime: f.int({ min: 0 }),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    if (p.StopTime !== undefined && p.SchedulerStopTime !== undefined && p.StopTime !== p.SchedulerStopTime) {
      throw badParam("SchedulerStopTime", "differs from StopTime; send one of them");
    }
    const at = p.StopTime ?? p.SchedulerStopTime;
    if (at === undefined) throw missingParam("StopTime");
    await ctx.services.instances.updateStopScheduler(await ctx.scope(), p.UHostId, at);
    return { UHostId: p.UHostId };
  },
});
