import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * CreateCompShareCustomImage: starts making an image of the instance's system disk (docs: one job
 * per instance at a time; a VM-image instance Running or Stopped, a container-image one only
 * Running). Returns at once with the id; GetCompShareImageCreateProgress follows the job.
 * Non-retryable in the Go SDK.
 */
export default defineAction({
  name: "CreateCompShareCustomImage",
  schema: {
    UHostId: f.str({ required: true }),
    Name: f.str({ required: true }),
    Description: f.str(),
    // The Go SDK's object; the docs page has no such field.
    Softwares: f.obj({
      Application: f.arr(f.str(), { maxItems: 20 }),
      CUDAVersion: f.str(),
      Framework: f.str(),
      FrameworkVersion: f.str(),
    }),
  },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    const id = await ctx.services.images.create(await ctx.scope(), {
      uhostId: p.UHostId,
      name: p.Name,
      description: p.Description,
      softwares: p.Softwares,
    });
    return { CompShareImageId: id };
  },
});
