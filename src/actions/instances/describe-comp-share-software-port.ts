import { softwareOf } from "../../core/catalog/software.js";
import { defineAction } from "../types.js";

/** DescribeCompShareSoftwarePort: the catalog's software → container port list. */
export default defineAction({
  name: "DescribeCompShareSoftwarePort",
  schema: {},
  region: "optional",
  zone: "optional",
  async handler(ctx) {
    return {
      SoftwarePort: softwareOf(ctx.services.catalog.catalog).map((s) => ({ Software: s.name, Port: s.port })),
    };
  },
});
