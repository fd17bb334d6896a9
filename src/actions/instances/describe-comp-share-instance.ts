import { renderInstance, simAccess, subnetIdOf, vpcIdOf } from "../../core/instance-view.js";
import { badParam } from "../../protocol/errors.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * DescribeCompShareInstance: Limit default 20, max 100; Offset past the total is an error;
 * at most 100 UHostIds; unknown ids give an empty set with RetCode 0.
 */
export default defineAction({
  name: "DescribeCompShareInstance",
  schema: {
    UHostIds: f.arr(f.str(), { maxItems: 100 }),
    Limit: f.int({ min: 1, max: 100 }),
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
    const { instances, catalog, clock } = ctx.deps;
    const offset = p.Offset ?? 0;
    const limit = p.Limit ?? 20;
    // A project has one VPC and one subnet per zone: both filters narrow to a zone or to nothing.
    let zone = ctx.zone;
    const none = p.VPCId !== undefined && p.VPCId !== vpcIdOf(scope.project.id);
    let noSubnet = false;
    if (p.SubnetId !== undefined) {
      const zones = catalog.catalog.regions.flatMap((r) => r.zones.map((z) => z.zone));
      const match = zones.find((z) => subnetIdOf(scope.project.id, z) === p.SubnetId);
      if (!match || (zone !== undefined && zone !== match)) noSubnet = true;
      zone = match;
    }
    if (none || noSubnet) {
      if (offset > 0) throw badParam("Offset", `${offset} is beyond the total of 0 instances`);
      return { TotalCount: 0, UHostSet: [] };
    }
    const result = await instances.describe(scope, {
      zone,
      ids: p.UHostIds,
      tag: p.Tag,
      offset,
      limit,
      withoutGpu: p.WithoutGpu === true ? true : undefined,
      udiskId: p.UDiskIdForAttachment,
    });
    const now = clock.now();
    const set = result.rows.map((inst) =>
      renderInstance(inst, {
        catalog: catalog.catalog,
        type: catalog.gpuType(inst.gpuType),
        image: catalog.image(inst.imageId),
        disks: result.disks.get(inst.id) ?? [],
        gpus: result.gpus.get(inst.id) ?? [],
        password: instances.password(inst),
        now,
        access: inst.accessHost
          ? { ip: inst.accessHost, sshPort: inst.accessPort ?? 22 }
          : simAccess(inst.id),
      }),
    );
    return { TotalCount: result.total, UHostSet: set };
  },
});
