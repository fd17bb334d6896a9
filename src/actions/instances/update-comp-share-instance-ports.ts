import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * UpdateCompShareInstancePorts: container instances (cpod-) only; HttpPorts.N and TcpPorts.N are a
 * complete replacement of what it publishes besides SSH's 22 (an absent list is an empty one):
 * ports 1-65535, none twice, at most 10 per list. Running or Stopped, with the lock; the state
 * stays. The runtime publishes ports when it starts the instance: the new set is live from the
 * next start (docker: the container is recreated then, its disk kept), and Describe's Softwares
 * shows what is live.
 */
export default defineAction({
  name: "UpdateCompShareInstancePorts",
  schema: {
    UHostId: f.str({ required: true }),
    HttpPorts: f.arr(f.int(), { maxItems: 100 }),
    TcpPorts: f.arr(f.int(), { maxItems: 100 }),
  },
  region: "required",
  zone: "optional",
  async handler(ctx, p) {
    await ctx.services.instances.updatePorts(await ctx.scope(), p.UHostId, {
      http: p.HttpPorts ?? [],
      tcp: p.TcpPorts ?? [],
    });
    return { UHostId: p.UHostId };
  },
});
