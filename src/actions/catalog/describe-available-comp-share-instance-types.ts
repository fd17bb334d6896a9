import type { GpuTypeSpec } from "../../domain/catalog.js";
import { f } from "../../protocol/schema.js";
import type { ActionContext } from "../types.js";
import { defineAction } from "../types.js";

/** The catalog's GPU type as an AvailableInstanceTypes element (shape of the Go SDK model). */
export function renderType(g: GpuTypeSpec, zone: string, status: string, instanceType: string) {
  const byGpu = new Map<number, Array<{ Cpu: number; Memory: number[]; MinimalCpuPlatform: string[] }>>();
  for (const s of g.sizes) {
    const list = byGpu.get(s.gpu) ?? [];
    list.push({ Cpu: s.cpu, Memory: [...s.memory], MinimalCpuPlatform: [...g.cpuPlatforms] });
    byGpu.set(s.gpu, list);
  }
  const diskTypes = [...new Set([...g.bootDisk.types, ...g.dataDisk.types])];
  const vendor = (v: string) => g.cpuPlatforms.filter((p) => p.startsWith(`${v}/`));
  return {
    Name: g.name,
    Zone: zone,
    Status: status,
    Description: `${g.name} (${g.graphicsMemoryGB} GB)`,
    MachineSizes: [...byGpu].map(([gpu, collection]) => ({ Gpu: gpu, Collection: collection })),
    CpuPlatforms: { Intel: vendor("Intel"), Amd: vendor("Amd"), Ampere: vendor("Ampere") },
    Disks: diskTypes.map((name) => ({
      Name: name,
      BootDisk: g.bootDisk.types.includes(name)
        ? [{ Name: name, MaximalSize: g.bootDisk.maxGB, InstantResize: false, Features: [] }]
        : [],
      DataDisk: g.dataDisk.types.includes(name)
        ? [{ Name: name, MinimalSize: g.dataDisk.minGB, MaximalSize: g.dataDisk.maxGB, Features: [] }]
        : [],
    })),
    GraphicsMemory: { Value: g.graphicsMemoryGB, Rate: 100 },
    Performance: { Value: g.performanceTflops, Rate: 100 },
    Features: [],
    InstanceType: instanceType,
    MachineClass: "GPU",
    ParentType: "G",
  };
}

/** The zones an availability answer covers: the requested one, else every zone of the region. */
export function zonesOf(ctx: ActionContext): string[] {
  if (ctx.zone) return [ctx.zone];
  return ctx.services.catalog.region(ctx.region)?.zones.map((z) => z.zone) ?? [];
}

/**
 * DescribeAvailableCompShareInstanceTypes: the GPU types sold per zone; Status is SoldOut when the
 * placement rule Create uses finds no host for the smallest size of the type.
 */
export default defineAction({
  name: "DescribeAvailableCompShareInstanceTypes",
  schema: { MachineTypes: f.arr(f.str()), InstanceType: f.str({ oneOf: ["uhost", "spot"] }) },
  region: "optional",
  zone: "optional",
  async handler(ctx, p) {
    const { catalog, instances } = ctx.services;
    const kind = p.InstanceType ?? "uhost";
    const out: Array<ReturnType<typeof renderType>> = [];
    if (p.MachineTypes && !p.MachineTypes.includes("G"))
      return { AvailableInstanceTypes: [], Status: "Normal" };
    for (const zone of zonesOf(ctx)) {
      const offersSpot = catalog.zone(zone)?.chargeTypes.includes("Spot") ?? false;
      for (const g of catalog.catalog.gpuTypes) {
        if (!g.zones.includes(zone) || (kind === "spot" && !(g.spot && offersSpot))) continue;
        const smallest = [...g.sizes].sort((a, b) => a.gpu - b.gpu || a.cpu - b.cpu)[0];
        const room =
          smallest !== undefined &&
          (await instances.canPlace(zone, g.name, {
            gpu: smallest.gpu,
            cpu: smallest.cpu,
            memory: Math.min(...smallest.memory),
          }));
        out.push(renderType(g, zone, room ? "Normal" : "SoldOut", kind));
      }
    }
    return { AvailableInstanceTypes: out, Status: "Normal" };
  },
});
