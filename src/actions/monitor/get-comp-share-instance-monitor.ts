import { MAX_MONITOR_IDS } from "../../core/monitor/monitor.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";
import { renderMetrics } from "./render-metrics.js";

/**
 * GetCompShareInstanceMonitor: the collector's samples of at most 10 instances of the request's
 * region. StartTime/EndTime (Unix seconds) apply to a single instance; otherwise, and by default,
 * the last 60 s (docs). Without UHostIds: the project's newest 10 instances in the region. The
 * official CLI sends this as JSON with UHostIds a native array, signed over the ids joined; the
 * gateway verifies that form like any other.
 */
export default defineAction({
  name: "GetCompShareInstanceMonitor",
  schema: {
    UHostIds: f.arr(f.str(), { maxItems: 100 }),
    StartTime: f.int({ min: 0 }),
    EndTime: f.int({ min: 0 }),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    const scope = await ctx.scope();
    const { monitor, instances } = ctx.services;
    const ids =
      p.UHostIds ??
      (await instances.describe(scope, { zone: ctx.zone, page: { offset: 0, limit: MAX_MONITOR_IDS } })).rows
        .filter((i) => i.region === scope.region)
        .map((i) => i.id);
    const found = await monitor.query(scope, {
      ids,
      from: p.StartTime === undefined ? undefined : p.StartTime * 1000,
      to: p.EndTime === undefined ? undefined : p.EndTime * 1000,
    });
    return {
      Data: {
        List: found.map(({ inst, samples }) => ({
          UHostId: inst.id,
          Metrics: renderMetrics(inst.id, samples),
        })),
        PodList: [],
      },
    };
  },
});
