import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

/**
 * Operator extension (root key only): every host with its capacity and the GPU map: which instance
 * (of which account) holds each GPU, which GPUs are free, and which instances sit on the host
 * without holding a GPU (started without GPU, or stopped there with their disks).
 */
export default defineAction({
  name: "AdminDescribeHosts",
  // A read, though its name does not say so: not audited as a change.
  readOnly: true,
  schema: { IncludeRetired: f.bool() },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const hosts = await ctx.services.hostMap.hosts(ctx.zone);
    const HostSet = hosts
      .filter((h) => p.IncludeRetired || !h.retired)
      .map((h) => ({
        HostId: h.id,
        Zone: h.zone,
        GpuType: h.gpuType,
        GpuCount: h.gpuCount,
        GpusFree: h.gpusFree,
        Cpu: h.cpuTotal,
        CpuUsed: h.cpuUsed,
        Memory: h.memoryTotal,
        MemoryUsed: h.memoryUsed,
        Retired: h.retired,
        GpuSet: h.gpus.map((g) => ({
          Index: g.index,
          UHostId: g.holder?.instanceId ?? "",
          Name: g.holder?.name ?? "",
          AccountId: g.holder?.accountId ?? "",
          AccountName: g.holder?.accountName ?? "",
          ProjectId: g.holder?.projectId ?? "",
          State: g.holder?.state ?? "",
        })),
        ResidentSet: h.residents.map((r) => ({
          UHostId: r.instanceId,
          Name: r.name,
          AccountId: r.accountId,
          AccountName: r.accountName,
          ProjectId: r.projectId,
          State: r.state,
          WithoutGpu: r.withoutGpu,
          HoldsCompute: r.holdsCompute,
        })),
      }));
    return { TotalCount: HostSet.length, HostSet };
  },
});
