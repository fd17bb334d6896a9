import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * DeleteCompshareDisk: a detached disk only, with its data. Deleting a deleted disk succeeds; one
 * still detaching gets 8434, which the official CLI retries on.
 */
export default defineAction({
  name: "DeleteCompshareDisk",
  schema: {
    UDiskId: f.str({ required: true }),
    UHostId: f.str(),
    // The Go SDK marks these required; the docs and the official CLI send neither.
    OrganizationID: f.int(),
    TopOrganizationID: f.int(),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.disks.delete(await ctx.scope(), p.UDiskId);
    return { UDiskId: p.UDiskId };
  },
});
