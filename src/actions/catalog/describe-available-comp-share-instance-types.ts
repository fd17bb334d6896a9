import type { GpuTypeSpec } from "../../domain/catalog.js";
import { f } from "../../protocol/schema.js";
import type { ActionContext } from "../types.js";
import { defineAction } from "../types.js";

/** A GPU type's human description (the catalog's, or its name and memory). */
export function gpuTypeDescription(g: GpuTypeSpec): string {
  return g.description ?? `${g.name} (${g.graphicsMemoryGB} GB)`;
}

/** The catalog's GPU type as an AvailableInstanceTypes element (shape of the Go SDK model). */
export function renderType(g: GpuTypeSpec, zone: string, status: string, instanceType: string) {
  const byGpu = new Map<number, Array<{ Cpu: number; Memory: number[]; MinimalCpuPlatform: string[] }>>();
  for (const s of g.sizes) {
    const list = byGpu.get(s.gpu) ?? [];
    // Memory in GB here (docs: "unit GB"; the official CLI matches it against capacity's Mem), while
    // Create and the price actions take MB.
    list.push({
      Cpu: s.cpu,
      Memory: s.memory.map((mb) => mb / 1024),
      MinimalCpuPlatform: [...g.cpuPlatforms],
    });
    byGpu.set(s.gpu, list);
  }
  const diskTypes = [...new Set([...g.bootDisk.types, ...g.dataDisk.types])];
  const vendor = (v: string) => g.cpuPlatforms.filter((p) => p.startsWith(`${v}/`));
  return {
    Name: g.name,
    Zone: zone,
    Status: status,
    Description: gpuTypeDescription(g),
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

/**
 * The zones an answer covers: the requested zone, else every zone of the requested region, else
 * (no Region given, as the official CLI asks) every zone of every region.
 */
export function zonesOf(ctx: ActionContext): string[] {
  if (ctx.zone) return [ctx.zone];
  if (!ctx.regionAsked) return ctx.services.catalog.allZones();
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
    // MachineTypes names the family "G" or GPU types (the official CLI sends `--gpu 4090`).
    const wanted = p.MachineTypes && !p.MachineTypes.includes("G") ? new Set(p.MachineTypes) : undefined;
    for (const zone of zonesOf(ctx)) {
      const offersSpot = catalog.zone(zone)?.chargeTypes.includes("Spot") ?? false;
      for (const g of catalog.catalog.gpuTypes) {
        if (!g.zones.includes(zone) || (kind === "spot" && !(g.spot && offersSpot))) continue;
        if (wanted && !wanted.has(g.name)) continue;
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
