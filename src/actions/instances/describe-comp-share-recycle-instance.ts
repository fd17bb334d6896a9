import { unixSeconds } from "../../core/clock.js";
import { badParam } from "../../protocol/errors.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * Extension (no CompShare action lists the recycle bin): terminated instances of the project with
 * when they entered the bin and when they will be purged.
 */
export default defineAction({
  name: "DescribeCompShareRecycleInstance",
  schema: { Limit: f.int({ min: 1, max: 100 }), Offset: f.int({ min: 0 }) },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    const scope = await ctx.scope();
    const offset = p.Offset ?? 0;
    const { total, rows } = await ctx.deps.instances.recycled(scope, offset, p.Limit ?? 20);
    if (offset > total) throw badParam("Offset", `${offset} is beyond the total of ${total} instances`);
    const retention = ctx.deps.instances.timings.recycleRetentionMs;
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
