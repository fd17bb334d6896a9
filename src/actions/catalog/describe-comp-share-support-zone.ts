import { defineAction } from "../types.js";

/**
 * DescribeCompShareSupportZone (reference §3.3): the zones of the requested region, or of every
 * region when none is given (the official CLI's `doctor` and `instance zones` send no Region).
 */
export default defineAction({
  name: "DescribeCompShareSupportZone",
  schema: {},
  region: "optional",
  zone: "optional",
  async handler(ctx) {
    const { catalog } = ctx.services;
    const regions = ctx.regionAsked
      ? [catalog.region(ctx.region)].filter((r) => r !== undefined)
      : catalog.catalog.regions;
    return {
      ZoneInfo: regions.flatMap((region) =>
        region.zones.map((z) => ({
          Region: region.region,
          Zone: z.zone,
          RegionId: region.regionId,
          ZoneId: z.zoneId,
          Describe: z.name,
          // No CFS/pod zones here (the CLI checks IsPod before CFS and shared-bandwidth calls).
          IsPod: false,
        })),
      ),
    };
  },
});
