import { defineAction } from "../types.js";

/** DescribeCompShareSupportZone (reference §3.3): the zones of the requested region. */
export default defineAction({
  name: "DescribeCompShareSupportZone",
  schema: {},
  region: "required",
  zone: "optional",
  async handler(ctx) {
    const region = ctx.services.catalog.region(ctx.region);
    return {
      ZoneInfo: (region?.zones ?? []).map((z) => ({
        Region: ctx.region,
        Zone: z.zone,
        RegionId: region?.regionId ?? 0,
        ZoneId: z.zoneId,
        Describe: z.name,
      })),
    };
  },
});
