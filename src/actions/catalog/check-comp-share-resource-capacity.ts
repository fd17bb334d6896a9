import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * CheckCompShareResourceCapacity (docs only, in no SDK): for every GPU/CPU/memory combination of the
 * type, whether Create would find room now. The request is checked by the same rules as Create's;
 * `Mem` is in GB.
 */
export default defineAction({
  name: "CheckCompShareResourceCapacity",
  schema: {
    GpuType: f.str({ required: true }),
    MachineType: f.str({ oneOf: ["G"] }),
    MinimalCpuPlatform: f.str(),
    CompShareImageId: f.str(),
    ChargeType: f.str({ oneOf: ["Month", "Day", "Dynamic", "Postpay", "Spot"] }),
    Disks: f.arr(f.obj({ IsBoot: f.bool(), Type: f.str(), Size: f.int({ min: 1 }) })),
  },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    const { rules, instances } = ctx.services;
    const zone = ctx.zone as string;
    const g = rules.gpuType(zone, p.GpuType);
    if (p.ChargeType !== undefined) rules.chargeType(zone, g, p.ChargeType);
    rules.platform(g, p.MinimalCpuPlatform);
    if (p.CompShareImageId !== undefined)
      await ctx.services.images.usable(
        await ctx.scope(),
        p.CompShareImageId,
        "CheckCompShareResourceCapacity",
      );
    rules.disks(
      g,
      (p.Disks ?? []).map((d, i) => ({
        isBoot: d.IsBoot === true,
        type: d.Type,
        size: d.Size,
        param: `Disks.${i}`,
      })),
      { exactlyOneBoot: false },
    );
    const specs = [];
    for (const s of g.sizes) {
      for (const mem of s.memory) {
        specs.push({
          Gpu: s.gpu,
          Cpu: s.cpu,
          Mem: mem / 1024,
          ResourceEnough: await instances.canPlace(zone, g.name, { gpu: s.gpu, cpu: s.cpu, memory: mem }),
        });
      }
    }
    return { Specs: specs };
  },
});
