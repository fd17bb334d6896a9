import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * What the official CLI's `image create --wait` loop reads (it is in no SDK model): `Status` (or
 * `State`) and `Progress` (or `Percent`), done at "Available" or 100, failed at "Failed". A failed
 * job is "Failed" here, not the image's UnAvailable, so the CLI stops instead of waiting out its
 * timeout.
 */
const CLI_STATUS = { Making: "Making", Available: "Available", UnAvailable: "Failed" } as const;

/**
 * GetCompShareImageCreateProgress: `Process` 0-100 (a float), `TotalDuration` and
 * `RemainingDuration` in seconds as strings (as the SDK models type them; the docs say Integer),
 * from the job's last report. Any replica answers: the job writes its reports to the store.
 */
export default defineAction({
  name: "GetCompShareImageCreateProgress",
  schema: { CompShareImageId: f.str({ required: true }) },
  region: "required",
  // The SDKs send Zone; the official CLI's `image progress` only when given.
  zone: "optional",
  async handler(ctx, p) {
    const im = await ctx.services.images.own(await ctx.scope(), p.CompShareImageId);
    const process =
      im.status === "Available" ? 100 : im.status === "Making" ? Math.min(99, im.progress) : im.progress;
    const remaining = im.status === "Making" ? im.remainingSeconds : 0;
    const status = CLI_STATUS[im.status];
    return {
      Process: process,
      TotalDuration: String(im.totalSeconds),
      RemainingDuration: String(remaining),
      Status: status,
      State: status,
      Progress: process,
      Percent: process,
      FailedReason: im.failedReason,
    };
  },
});
