import { MAX_LIMIT, pageOf } from "../../core/paging.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";
import { renderCustomImage } from "./render-image.js";

/**
 * DescribeCompShareSharingImages: custom images other accounts shared with the caller, in the
 * region, newest first; Create and Reinstall accept their ids once they are Available.
 */
export default defineAction({
  name: "DescribeCompShareSharingImages",
  schema: {
    CompShareImageId: f.str(),
    Offset: f.int({ min: 0 }),
    Limit: f.int({ min: 1, max: MAX_LIMIT }),
  },
  // Required in the SDK models; the official CLI's image lists send none: every region then.
  region: "optional",
  zone: "optional",
  async handler(ctx, p) {
    const r = await ctx.services.images.list("sharedWith", await ctx.scope(), {
      id: p.CompShareImageId,
      page: pageOf(p),
      anyRegion: !ctx.regionAsked,
    });
    return { TotalCount: r.total, ImageSet: r.rows.map(renderCustomImage) };
  },
});
