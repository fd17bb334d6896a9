import { defineAction } from "../types.js";

/** DescribeCompShareMachineTypeFamilies: CompShare sells one machine type family, G. */
export default defineAction({
  name: "DescribeCompShareMachineTypeFamilies",
  schema: {},
  region: "optional",
  zone: "optional",
  async handler(ctx) {
    await ctx.scope();
    return { MachineTypes: ["G"] };
  },
});
