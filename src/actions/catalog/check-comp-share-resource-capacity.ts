import { badParam, missingParam } from "../../protocol/errors.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * CheckCompShareResourceCapacity (docs only, in no SDK): for every GPU/CPU/memory combination of the
 * type, whether Create would find room now. `Mem` is in GB.
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
    const { catalog, instances } = ctx.deps;
    const zone = ctx.zone as string;
    const g = catalog.gpuType(p.GpuType);
    if (!g || !g.zones.includes(zone)) throw badParam("GpuType", `${p.GpuType} is not sold in ${zone}`);
    if (p.CompShareImageId !== undefined && !catalog.image(p.CompShareImageId)) {
      throw badParam("CompShareImageId", `image ${p.CompShareImageId} does not exist`);
    }
    if (p.ChargeType !== undefined) {
      const offered = catalog.zone(zone)?.chargeTypes ?? [];
      if (!offered.includes(p.ChargeType as never))
        throw badParam("ChargeType", `${p.ChargeType} is not offered in ${zone}`);
      if (p.ChargeType === "Spot" && !g.spot)
        throw badParam("ChargeType", `Spot is not offered for GPU type ${g.name}`);
    }
    if (p.MinimalCpuPlatform !== undefined && p.MinimalCpuPlatform !== "Auto") {
      const vendor = p.MinimalCpuPlatform.split("/")[0];
      if (!g.cpuPlatforms.some((x) => x === p.MinimalCpuPlatform || x.startsWith(`${vendor}/`))) {
        throw badParam(
          "MinimalCpuPlatform",
          `not offered for ${g.name}; choose one of Auto, ${g.cpuPlatforms.join(", ")}`,
        );
      }
    }
    (p.Disks ?? []).forEach((d, i) => {
      if (d.Type === undefined) throw missingParam(`Disks.${i}.Type`);
      const limits = d.IsBoot ? g.bootDisk : g.dataDisk;
      if (!limits.types.includes(d.Type as string))
        throw badParam(`Disks.${i}.Type`, `choose one of ${limits.types.join(", ")}`);
    });
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
