import { MAX_LIMIT, pageOf } from "../../core/paging.js";
import { unixSeconds } from "../../domain/clock.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * Extension (no CompShare action lists the recycle bin): terminated instances of the project with
 * when they entered the bin and when they will be purged.
 */
export default defineAction({
  name: "DescribeCompShareRecycleInstance",
  schema: { Limit: f.int({ min: 1, max: MAX_LIMIT }), Offset: f.int({ min: 0 }) },
  region: "optional",
  zone: "optional",
  async handler(ctx, p) {
    const scope = await ctx.scope();
    const { total, rows } = await ctx.services.instances.recycled(scope, pageOf(p));
    const retention = ctx.services.instances.timings.recycleRetentionMs;
    return {
      TotalCount: total,
      UHostSet: rows.map((r) => ({
        UHostId: r.id,
        Name: r.name,
        Zone: r.zone,
        GpuType: r.gpuType,
        GPU: r.gpu,
        CPU: r.cpu,
        Memory: r.memory,
        ChargeType: r.chargeType,
        CompShareImageId: r.imageId,
        InRecycle: "Yes",
        RecycleTime: unixSeconds(r.recycledAt ?? 0),
        PurgeTime: unixSeconds((r.recycledAt ?? 0) + retention),
        ReleaseUDisk: r.releaseUdisk,
      })),
    };
  },
});
