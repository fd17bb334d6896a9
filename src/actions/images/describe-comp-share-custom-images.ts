import { MAX_LIMIT, pageOf } from "../../core/paging.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";
import { renderCustomImage } from "./render-image.js";

/**
 * DescribeCompShareCustomImages: the caller's own custom images in the region (every region
 * without one; any of its projects), newest first, every status; `Limit` 20 by default, at most 100. An Offset past the
 * total is an empty page, as the other image lists.
 */
export default defineAction({
  name: "DescribeCompShareCustomImages",
  schema: {
    CompShareImageId: f.str(),
    Offset: f.int({ min: 0 }),
    Limit: f.int({ min: 1, max: MAX_LIMIT }),
  },
  // Required in the SDK models; the official CLI's image lists send none: every region then.
  region: "optional",
  // Required in the Go SDK and the old docs page; the official CLI sends it only when given.
  zone: "optional",
  async handler(ctx, p) {
    const r = await ctx.services.images.list("owned", await ctx.scope(), {
      id: p.CompShareImageId,
      page: pageOf(p),
      anyRegion: !ctx.regionAsked,
    });
    return { TotalCount: r.total, ImageSet: r.rows.map(renderCustomImage) };
  },
});
