import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";
import { renderEvent } from "./render-event.js";

/**
 * Extension: an instance's history from the event outbox (what GET /events streams), newest first,
 * within the event retention; also for an instance in the recycle bin.
 */
export default defineAction({
  name: "DescribeCompShareInstanceEvents",
  schema: { UHostId: f.str({ required: true, maxLength: 64 }), Limit: f.int({ min: 1, max: 500 }) },
  region: "optional",
  zone: "optional",
  async handler(ctx, p) {
    const scope = await ctx.scope();
    const events = await ctx.services.events.history(scope, p.UHostId, p.Limit ?? 100);
    return { EventSet: events.map(renderEvent) };
  },
});
