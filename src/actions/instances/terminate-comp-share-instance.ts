import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * TerminateCompShareInstance: only Stopped; the instance goes to the recycle bin at once (it leaves
 * Describe), the worker erases its system disk, data disks are kept unless ReleaseUDisk=true.
 */
export default defineAction({
  name: "TerminateCompShareInstance",
  schema: { UHostId: f.str({ required: true }), ReleaseUDisk: f.bool() },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    await ctx.services.instances.operate(await ctx.scope(), p.UHostId, "Terminate", {
      releaseUDisk: p.ReleaseUDisk ?? false,
    });
    return { UHostId: p.UHostId, InRecycle: "Yes" };
  },
});
