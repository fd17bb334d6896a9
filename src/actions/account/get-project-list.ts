import { unixSeconds } from "../../domain/clock.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/** GetProjectList (reference §1.7): the caller's projects, default first. */
export default defineAction({
  name: "GetProjectList",
  schema: { IsFinance: f.str({ oneOf: ["Yes", "No"] }) },
  region: "optional",
  zone: "optional",
  async handler(ctx) {
    const projects = await ctx.services.accounts.projectsOf(ctx.principal.account.id);
    const set = await Promise.all(
      projects.map(async (p) => ({
        ProjectId: p.id,
        ProjectName: p.name,
        CreateTime: unixSeconds(p.createdAt),
        IsDefault: p.isDefault,
        MemberCount: 1,
        ResourceCount: await ctx.services.instances.countInProject(p.id),
        ParentId: "",
        ParentName: "",
      })),
    );
    return { ProjectCount: set.length, ProjectSet: set };
  },
});
