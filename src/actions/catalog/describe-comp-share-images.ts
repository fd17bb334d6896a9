import { MAX_LIMIT, pageOf, paginate } from "../../core/paging.js";
import { f } from "../../protocol/schema.js";
import { renderCustomImage, renderPlatformImage } from "../images/render-image.js";
import { defineAction } from "../types.js";

/**
 * DescribeCompShareImages: the catalog's images (platform images). ImageType (System, App, Game,
 * Other) defaults to System as in the SDK model; Name is a case-insensitive substring match, Author
 * exact, Tag one of the image's tags.
 */
export default defineAction({
  name: "DescribeCompShareImages",
  schema: {
    CompShareImageId: f.str(),
    ImageType: f.str({ oneOf: ["System", "App", "Game", "Other"] }),
    Name: f.str({ maxLength: 128 }),
    Author: f.str({ maxLength: 128 }),
    Tag: f.str({ maxLength: 64 }),
    Offset: f.int({ min: 0 }),
    Limit: f.int({ min: 1, max: MAX_LIMIT }),
  },
  region: "optional",
  zone: "optional",
  async handler(ctx, p) {
    const type = p.CompShareImageId ? undefined : (p.ImageType ?? "System");
    const name = p.Name?.toLowerCase();
    const matching = ctx.services.catalog.catalog.images.filter(
      (im) =>
        (p.CompShareImageId === undefined || im.id === p.CompShareImageId) &&
        (type === undefined || im.type === type) &&
        (name === undefined || im.name.toLowerCase().includes(name)) &&
        (p.Author === undefined || im.author === p.Author) &&
        (p.Tag === undefined || im.tags.includes(p.Tag)),
    );
    // By id, a custom image the caller owns or was shared is found too (the official CLI's
    // `image show ID` asks here unless told its source); lists stay the platform's.
    if (matching.length === 0 && p.CompShareImageId !== undefined) {
      const custom = await ctx.services.images.visible(
        await ctx.scope(),
        p.CompShareImageId,
        !ctx.regionAsked,
      );
      if (custom) return { TotalCount: 1, ImageSet: [renderCustomImage(custom)] };
    }
    // An Offset past the total is an empty page: the official CLI pages through the four image
    // types with one running offset (only Describe's instance list documents an error for it).
    const { total, items } = paginate(matching, pageOf(p), "images", "empty");
    return { TotalCount: total, ImageSet: items.map(renderPlatformImage) };
  },
});
