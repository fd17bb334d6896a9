import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * AttachCompshareDisk: a detached disk of the instance's zone onto a Running or Stopped instance,
 * with its lock; the state stays. On the docker driver the volume is mounted at /mnt/<UDiskId> at
 * once on a stopped instance, at its next start on a running one.
 */
export default defineAction({
  name: "AttachCompshareDisk",
  schema: {
    UHostId: f.str({ required: true }),
    UDiskId: f.str({ required: true }),
    // The official CLI's --type; the disk keeps the type it was made with.
    DataDiskType: f.str(),
    EnableCrossPodAttach: f.str(),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.disks.attach(await ctx.scope(), p.UHostId, p.UDiskId);
    return { UHostId: p.UHostId, UDiskId: p.UDiskId };
  },
});
