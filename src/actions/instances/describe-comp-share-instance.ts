import { MAX_LIMIT, pageOf } from "../../core/paging.js";
import type { InstanceRecord } from "../../domain/records.js";
import { EncodedJsonArray } from "../../protocol/json.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";
import type { CompShareInstance } from "./render-instance.js";
import { renderedInstance } from "./render-instance.js";

/**
 * DescribeCompShareInstance: Limit default 20, max 100; Offset past the total is an error;
 * at most 100 UHostIds; unknown ids give an empty set with RetCode 0.
 */
export default defineAction({
  name: "DescribeCompShareInstance",
  schema: {
    UHostIds: f.arr(f.str(), { maxItems: 100 }),
    Limit: f.int({ min: 1, max: MAX_LIMIT }),
    Offset: f.int({ min: 0 }),
    Tag: f.str(),
    VPCId: f.str(),
    SubnetId: f.str(),
    UDiskIdForAttachment: f.str(),
    WithoutGpu: f.bool(),
  },
  region: "optional",
  zone: "optional",
  async handler(ctx, p) {
    const scope = await ctx.scope();
    const { instances, catalog, clock } = ctx.services;
    const result = await instances.describe(scope, {
      zone: ctx.zone,
      ids: p.UHostIds,
      tag: p.Tag,
      vpcId: p.VPCId,
      subnetId: p.SubnetId,
      withoutGpu: p.WithoutGpu === true ? true : undefined,
      udiskId: p.UDiskIdForAttachment,
      page: pageOf(p),
    });
    const images = await ctx.services.images.ofInstances(result.rows.map((r) => r.imageId));
    const now = clock.now();
    const samples = await ctx.services.monitor.latest(result.rows);
    const password = (inst: InstanceRecord) => instances.password(inst);
    const set = result.rows.map((inst) =>
      renderedInstance(inst, {
        catalog,
        image: images.get(inst.imageId),
        disks: result.disks.get(inst.id) ?? [],
        sample: samples.get(inst.id),
        now,
        password,
      }),
    );
    return { TotalCount: result.total, UHostSet: new EncodedJsonArray<CompShareInstance>(set) };
  },
});
