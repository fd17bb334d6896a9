import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";
import { renderDisk } from "./render-disk.js";

/**
 * DescribeCompshareDisk: the project's data disks, attached and detached (a terminated instance's
 * kept disks among them), oldest first. No Region needed (every region's); `Region` narrows to its
 * zones, `HostId` to the disks attached to one instance.
 */
export default defineAction({
  name: "DescribeCompshareDisk",
  schema: { HostId: f.str(), UHostId: f.str() },
  region: "optional",
  zone: "optional",
  async handler(ctx, p) {
    const { disks, catalog } = ctx.services;
    const rows = await disks.list(await ctx.scope(), {
      instanceId: p.HostId ?? p.UHostId,
      region: ctx.regionAsked ? ctx.region : undefined,
    });
    return { TotalCount: rows.length, DiskSet: rows.map((d) => renderDisk(d, catalog)) };
  },
});
