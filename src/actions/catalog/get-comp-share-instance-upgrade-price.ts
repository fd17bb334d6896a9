import { badParam } from "../../domain/errors.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * GetCompShareInstanceUpgradePrice: what resizing an instance to CPU/Memory/GPU costs — positive:
 * pay the difference, negative: refunded — per hour for hourly charge types, prorated to the expiry
 * for Month/Day; from the same price function as every price. The docs and the official CLI send
 * `CPU`/`GPU`, the Go SDK `Cpu`/`Gpu`: both are accepted. Omitted values stay as they are.
 */
export default defineAction({
  name: "GetCompShareInstanceUpgradePrice",
  schema: {
    UHostId: f.str({ required: true }),
    CPU: f.int({ min: 1 }),
    Cpu: f.int({ min: 1 }),
    GPU: f.int({ min: 0 }),
    Gpu: f.int({ min: 0 }),
    Memory: f.int({ min: 1024 }),
    CompShareImageId: f.str(),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    const either = (a: number | undefined, b: number | undefined, name: string, other: string) => {
      if (a !== undefined && b !== undefined && a !== b)
        throw badParam(name, `differs from ${other}; send one of them`);
      return a ?? b;
    };
    const scope = await ctx.scope();
    if (p.CompShareImageId !== undefined)
      await ctx.services.images.usable(scope, p.CompShareImageId, "GetCompShareInstanceUpgradePrice");
    const q = await ctx.services.instances.upgradePrice(scope, p.UHostId, {
      cpu: either(p.CPU, p.Cpu, "CPU", "Cpu"),
      gpu: either(p.GPU, p.Gpu, "GPU", "Gpu"),
      memory: p.Memory,
    });
    return { Price: q.price, OriginalPrice: q.list, ListPrice: q.list };
  },
});
