import type { GpuTypeSpec } from "../../domain/catalog.js";
import { defineAction } from "../types.js";
import { gpuTypeDescription, zonesOf } from "./describe-available-comp-share-instance-types.js";

/**
 * DescribeCompShareMachineTypeFamilies: the GPU types sold, as objects `{Name, Description}` plus
 * `MachineTypesMap` (the same, grouped by zone id) — the shape of the docs, which the official CLI
 * reads. The Go SDK models MachineTypes as strings: its typed call fails on this (README, SDK drift).
 */
export default defineAction({
  name: "DescribeCompShareMachineTypeFamilies",
  schema: {},
  region: "optional",
  zone: "optional",
  async handler(ctx) {
    await ctx.scope();
    const { catalog } = ctx.services;
    const zones = zonesOf(ctx);
    const types = catalog.catalog.gpuTypes.filter((g) => g.zones.some((z) => zones.includes(z)));
    const entry = (g: GpuTypeSpec) => ({ Name: g.name, Description: gpuTypeDescription(g) });
    const byZone: Record<string, Array<{ Name: string; Description: string }>> = {};
    for (const z of zones) {
      const id = String(catalog.zone(z)?.zoneId ?? z);
      byZone[id] = types.filter((g) => g.zones.includes(z)).map(entry);
    }
    return { MachineTypes: types.map(entry), MachineTypesMap: byZone };
  },
});
