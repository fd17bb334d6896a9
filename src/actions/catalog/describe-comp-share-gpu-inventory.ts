import { unixSeconds } from "../../domain/clock.js";
import { defineAction } from "../types.js";
import { zonesOf } from "./describe-available-comp-share-instance-types.js";

/**
 * DescribeCompShareGpuInventory: free GPUs per zone and type, live. The SDKs type
 * GpuInventoryByZone as a string, so the nested map is sent JSON-encoded.
 */
export default defineAction({
  name: "DescribeCompShareGpuInventory",
  schema: {},
  region: "optional",
  zone: "optional",
  async handler(ctx) {
    const { catalog, instances, clock } = ctx.services;
    const zones = new Set(zonesOf(ctx));
    const exclusive: Record<string, Record<string, number>> = {};
    const spot: Record<string, Record<string, number>> = {};
    for (const { zone, gpuType, free } of await instances.freeGpus()) {
      if (!zones.has(zone)) continue;
      exclusive[zone] = { ...exclusive[zone], [gpuType]: free };
      const g = catalog.gpuType(gpuType);
      if (g?.spot && catalog.zone(zone)?.chargeTypes.includes("Spot"))
        spot[zone] = { ...spot[zone], [gpuType]: free };
    }
    return {
      GpuInventoryByZone: JSON.stringify({ Exclusive: exclusive, Spot: spot }),
      SpotUnsupportedGpuTypes: catalog.catalog.gpuTypes.filter((g) => !g.spot).map((g) => g.name),
      UpdateTime: unixSeconds(clock.now()),
    };
  },
});
