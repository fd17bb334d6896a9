import { parseSoftwares } from "../../core/images/rules.js";
import { badParam, missingParam } from "../../domain/errors.js";
import type { ImagePatch } from "../../domain/images.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** Fields of community publishing, which is not offered: refused by name rather than ignored. */
const COMMUNITY_ONLY = [
  "Cover",
  "Readme",
  "GroupId",
  "Price",
  "VersionName",
  "VersionDesc",
  "SupportedGpuTypes",
  "AutoStart",
] as const;

/**
 * UpdateCompShareImage: the caller's image's Name (the official CLI sends it; the SDK models lack
 * it; unique per account), Description, Tags (at most 3), Softwares (a JSON object string, as the
 * SDK models type it) and Framework. Visibility 1 (publishing to the community) is not offered.
 */
export default defineAction({
  name: "UpdateCompShareImage",
  schema: {
    CompShareImageId: f.str({ required: true }),
    Name: f.str(),
    Description: f.str(),
    Tags: f.arr(f.str(), { maxItems: 3 }),
    Softwares: f.str(),
    Framework: f.str({ maxLength: 64 }),
    Visibility: f.int({ min: 0, max: 1 }),
    Cover: f.str(),
    Readme: f.str(),
    GroupId: f.str(),
    Price: f.float(),
    VersionName: f.str(),
    VersionDesc: f.str(),
    SupportedGpuTypes: f.arr(f.str()),
    AutoStart: f.bool(),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    for (const key of COMMUNITY_ONLY)
      if (p[key] !== undefined) throw badParam(key, "community images are not offered by this service");
    if (p.Visibility === 1)
      throw badParam("Visibility", "1 publishes to the community, which is not offered");
    const scope = await ctx.scope();
    const patch: ImagePatch = { name: p.Name, description: p.Description, tags: p.Tags };
    if (p.Softwares !== undefined || p.Framework !== undefined) {
      const current = (await ctx.services.images.own(scope, p.CompShareImageId)).softwares;
      const given = p.Softwares !== undefined ? parseSoftwares(p.Softwares) : current;
      patch.softwares = { ...given, framework: p.Framework ?? given.framework };
    }
    if (Object.values(patch).every((v) => v === undefined) && p.Visibility === undefined)
      throw missingParam("Name, Description, Tags, Softwares or Framework");
    await ctx.services.images.update(scope, p.CompShareImageId, patch);
    return {};
  },
});
