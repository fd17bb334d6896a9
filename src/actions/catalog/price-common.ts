import { quote, roundPrice } from "../../core/catalog/pricing.js";
import type { ChargeType } from "../../domain/catalog.js";
import { badParam } from "../../domain/errors.js";
import { f } from "../../protocol/schema.js";
import type { InferSchema } from "../../protocol/schema.js";
import type { ActionContext } from "../types.js";

/**
 * GetCompShareInstancePrice and GetCompShareInstanceUserPrice share one schema and one handler.
 * The docs spell the spec `Cpu/Gpu` on one page and `CPU/GPU` on the other, and the Go SDK sends
 * them as strings (§3.4, §6): both spellings are accepted on both actions.
 */
export const priceSchema = {
  GpuType: f.str(),
  Gpu: f.int({ min: 1, max: 10 }),
  GPU: f.int({ min: 1, max: 10 }),
  Cpu: f.int({ min: 1 }),
  CPU: f.int({ min: 1 }),
  Memory: f.int({ min: 1024 }),
  ChargeType: f.str({ oneOf: ["Month", "Day", "Dynamic", "Postpay", "Spot"] }),
  Disks: f.arr(
    f.obj({ IsBoot: f.bool(), Type: f.str({ required: true }), Size: f.int({ required: true, min: 1 }) }),
    { maxItems: 5 },
  ),
  Volumes: f.arr(f.obj({ Type: f.str({ required: true }), Size: f.int({ required: true, min: 1 }) }), {
    maxItems: 4,
  }),
  CompShareImageId: f.str(),
  Quantity: f.int({ min: 1, max: 120 }),
};

type PriceParams = InferSchema<typeof priceSchema>;

function one(p: PriceParams, a: "Gpu" | "Cpu", b: "GPU" | "CPU"): number | undefined {
  if (p[a] !== undefined && p[b] !== undefined && p[a] !== p[b])
    throw badParam(b, `differs from ${a}; send one of them`);
  return p[a] ?? p[b];
}

/** Prices per charge type from the same quote() Describe uses, so the two never disagree. */
export async function priceHandler(ctx: ActionContext, p: PriceParams) {
  const { catalog, clock, rules } = ctx.services;
  const region = catalog.region(ctx.region);
  const zone = ctx.zone ?? region?.zones.find((z) => z.isDefault)?.zone ?? region?.zones[0]?.zone ?? "";
  // Omitted values default to the type's first size: 1 GPU with its CPU and memory.
  const g = rules.gpuType(zone, p.GpuType ?? rules.typesIn(zone)[0]?.name);
  const gpu = one(p, "Gpu", "GPU") ?? 1;
  const sizes = g.sizes.filter((s) => s.gpu === gpu);
  const cpu = one(p, "Cpu", "CPU") ?? sizes[0]?.cpu ?? 0;
  const memory = p.Memory ?? sizes.find((s) => s.cpu === cpu)?.memory[0] ?? 0;
  rules.size(g, gpu, cpu, memory, { gpu: "Gpu", cpu: "Cpu", memory: "Memory" });
  if (p.CompShareImageId !== undefined)
    await ctx.services.images.usable(await ctx.scope(), p.CompShareImageId, "GetCompShareInstancePrice");
  const chargeTypes: ChargeType[] =
    p.ChargeType === undefined ? rules.chargeTypesFor(zone, g) : [rules.chargeType(zone, g, p.ChargeType)];
  const asked = [
    ...(p.Disks ?? []).map((d, i) => ({
      isBoot: d.IsBoot === true,
      type: d.Type as string,
      size: d.Size as number,
      param: `Disks.${i}`,
    })),
    ...(p.Volumes ?? []).map((v, i) => ({
      isBoot: false,
      type: v.Type as string,
      size: v.Size as number,
      param: `Volumes.${i}`,
    })),
  ];
  rules.disks(g, asked, { exactlyOneBoot: false });
  const disks = asked.map((d) => ({ isBoot: d.isBoot, type: d.type, sizeGB: d.size }));
  const qty = p.Quantity ?? 1;
  const now = clock.now();
  const rows = chargeTypes.map((ct) => {
    const q = quote(
      catalog.catalog,
      { gpuType: g.name, gpu, cpu, chargeType: ct, withoutGpu: false, disks },
      now,
    );
    const systemDisks = roundPrice((q?.systemDisks ?? 0) * qty);
    const dataDisks = roundPrice((q?.dataDisks ?? 0) * qty);
    const list = roundPrice((q?.instanceList ?? 0) * qty + systemDisks + dataDisks);
    const base = {
      ChargeType: ct,
      // Data disks and the system disk apart: the official CLI adds Instance, Disks, SystemDisks and
      // CompShareImage for the total (a Disks that held the system disk too would count it twice).
      Disks: dataDisks,
      SystemDisks: systemDisks,
      CompShareImage: 0,
      OriginalPrice: list,
      // The Go SDK types ListPrice as a string.
      ListPrice: String(list),
    };
    return {
      price: {
        ...base,
        Instance: roundPrice((q?.instance ?? 0) * qty),
        InstanceDiscountType: q?.discountType ?? 0,
      },
      original: { ...base, Instance: roundPrice((q?.instanceList ?? 0) * qty), InstanceDiscountType: 0 },
    };
  });
  const price = rows.map((r) => r.price);
  const original = rows.map((r) => r.original);
  return {
    PriceDetails: price,
    PriceDetail: price,
    OriginalPriceDetails: original,
    OriginalPriceDetail: original,
    ListPriceDetails: original,
    ListPriceDetail: original,
  };
}
