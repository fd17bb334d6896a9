import { MAX_LIMIT, pageOf, paginate } from "../../core/paging.js";
import type { ImageSpec } from "../../domain/catalog.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** A catalog image as the SDK's CompShareImage model (every field, exact JSON types). */
export function renderImage(im: ImageSpec) {
  return {
    CompShareImageId: im.id,
    Name: im.name,
    Author: im.author,
    AuthInfo: 0,
    ImageOwnerAlias: "Official",
    ImageType: im.type,
    IsOfficial: true,
    Container: im.container ? "True" : "False",
    Status: "Available",
    Size: im.sizeMB,
    Visibility: 1,
    Description: im.description,
    Tags: [...im.tags],
    Cover: "",
    Readme: "",
    FailedReason: "",
    CreateTime: 0,
    PubTime: 0,
    ImageUseTime: 0,
    CreatedCount: 0,
    FavoritesCount: 0,
    ImageCharge: false,
    Price: 0,
    AutoStart: false,
    GroupId: "",
    VersionName: "",
    VersionDesc: "",
    SourceGpuType: "",
    Owner: { AccountId: "", AccountName: "opencompshare" },
    Softwares: { Applications: [], CUDAVersion: "", Framework: "", FrameworkVersion: "" },
  };
}

/**
 * DescribeCompShareImages: the catalog's images. ImageType (System, App, Game, Other) defaults to
 * System as in the SDK model;
 * Name is a case-insensitive substring match, Author exact, Tag one of the image's tags.
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
    // An Offset past the total is an empty page: the official CLI pages through the four image
    // types with one running offset (only Describe's instance list documents an error for it).
    const { total, items } = paginate(matching, pageOf(p), "images", "empty");
    return { TotalCount: total, ImageSet: items.map(renderImage) };
  },
});
