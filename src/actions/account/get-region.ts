import { defineAction } from "../types.js";

/** GetRegion (reference §1.7): one entry per zone of the catalog, the default zone marked. */
export default defineAction({
  name: "GetRegion",
  schema: {},
  region: "optional",
  zone: "optional",
  async handler(ctx) {
    const regions = ctx.services.catalog.catalog.regions.flatMap((r) =>
      r.zones.map((z) => ({
        Region: r.region,
        Zone: z.zone,
        RegionId: r.regionId,
        RegionName: r.name,
        IsDefault: Boolean(r.isDefault && z.isDefault),
        BitMaps: "",
      })),
    );
    return { Regions: regions };
  },
});
