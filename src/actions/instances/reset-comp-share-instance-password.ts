import { UnsupportedByImage } from "../../drivers/docker/docker-driver.js";
import { ApiError } from "../../protocol/errors.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * ResetCompShareInstancePassword: Password is base64; VM instances only when Stopped; a running
 * container instance gets it applied inside by the driver (or a clear error when the image cannot).
 */
export default defineAction({
  name: "ResetCompShareInstancePassword",
  schema: { UHostId: f.str({ required: true }), Password: f.str({ required: true }) },
  region: "required",
  zone: "required",
  async handler(ctx, p) {
    const driver = ctx.deps.driver;
    const apply = driver.setPassword
      ? async (id: string, plain: string) => {
          try {
            await driver.setPassword?.(id, plain);
          } catch (e) {
            if (e instanceof UnsupportedByImage)
              throw new ApiError("PasswordNotApplicable", { uhostId: id, reason: e.message });
            throw new ApiError("DriverFailed", { uhostId: id, reason: (e as Error).message });
          }
        }
      : undefined;
    await ctx.deps.instances.resetPassword(await ctx.scope(), p.UHostId, p.Password, apply);
    return { UHostId: p.UHostId };
  },
});
