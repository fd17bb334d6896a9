import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * DetachCompshareDisk: only from a Stopped instance, never the system disk (docs); `Device`, when
 * sent, must be the disk's. The disk is `Detaching` until the runtime has let go of it (docker:
 * the stopped container is recreated without the volume), then a detached disk.
 */
export default defineAction({
  name: "DetachCompshareDisk",
  schema: {
    UHostId: f.str({ required: true }),
    UDiskId: f.str({ required: true }),
    Device: f.str({ pattern: /^\/dev\/vd[a-z]$/, patternHint: "a device name such as /dev/vdb" }),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.disks.detach(await ctx.scope(), p.UHostId, p.UDiskId, p.Device);
    return { UHostId: p.UHostId, UDiskId: p.UDiskId };
  },
});
