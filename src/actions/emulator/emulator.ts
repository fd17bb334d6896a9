import type { EmulatorService } from "../../core/emulator/emulator.js";
import { SIM_OPS } from "../../core/emulator/emulator.js";
import { unixSeconds } from "../../domain/clock.js";
import { ApiError, badParam } from "../../domain/errors.js";
import { f } from "../../protocol/schema.js";
import type { ActionContext } from "../types.js";
import { defineAction } from "../types.js";

/**
 * Emulator controls (extensions, root key only, simulated driver only): for users testing their own
 * CompShare automation. They are signed Actions on the same endpoint, so any SDK's `invoke` reaches them.
 */
function emulator(ctx: ActionContext): EmulatorService {
  const e = ctx.services.emulator;
  if (!e) throw new ApiError("PermissionDenied", { reason: "emulator controls need OCS_DRIVER=sim" });
  return e;
}

export const advanceClock = defineAction({
  name: "EmulatorAdvanceClock",
  schema: { Seconds: f.int({ required: true, min: 0, max: 10 * 365 * 86400 }) },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const e = emulator(ctx);
    e.advanceClock(p.Seconds);
    return { Now: unixSeconds(e.now()), OffsetSeconds: Math.floor(e.offsetMs / 1000) };
  },
});

export const setLatency = defineAction({
  name: "EmulatorSetLatency",
  schema: { Milliseconds: f.int({ required: true, min: 0, max: 600_000 }) },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    emulator(ctx).setLatency(p.Milliseconds);
    return { Milliseconds: p.Milliseconds };
  },
});

export const injectFault = defineAction({
  name: "EmulatorInjectFault",
  schema: {
    Target: f.str({ oneOf: ["Api", "Driver"] }),
    FaultAction: f.str(),
    Operation: f.str({ oneOf: SIM_OPS }),
    RetCode: f.int({ min: 1, max: 999_999 }),
    Message: f.str({ required: true, maxLength: 500 }),
    Count: f.int({ min: 1, max: 1_000_000 }),
    Probability: f.float({ min: 0, max: 1 }),
  },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const e = emulator(ctx);
    if (p.Count === undefined && p.Probability === undefined)
      throw badParam("Count", "give Count or Probability");
    if ((p.Target ?? "Api") === "Api") {
      if (!p.FaultAction) throw badParam("FaultAction", "name the Action to fail");
      if (p.RetCode === undefined) throw badParam("RetCode", "give the RetCode to return");
      e.injectApiFault({
        action: p.FaultAction,
        retCode: p.RetCode,
        message: p.Message,
        count: p.Count,
        probability: p.Probability,
      });
    } else {
      if (!p.Operation) throw badParam("Operation", "name the driver operation to fail");
      e.injectDriverFault({
        op: p.Operation as (typeof SIM_OPS)[number],
        message: p.Message,
        count: p.Count,
        probability: p.Probability,
      });
    }
    return {};
  },
});

export const setLoad = defineAction({
  name: "EmulatorSetLoad",
  schema: {
    UHostId: f.str({ required: true }),
    Cpu: f.float({ min: 0, max: 100 }),
    Memory: f.float({ min: 0, max: 100 }),
    Gpu: f.float({ min: 0, max: 100 }),
    GpuMemory: f.float({ min: 0, max: 100 }),
    Clear: f.bool(),
  },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const e = emulator(ctx);
    if (!(await e.exists(p.UHostId))) throw new ApiError("InstanceNotFound", { uhostId: p.UHostId });
    const load = { cpu: p.Cpu, memory: p.Memory, gpu: p.Gpu, gpuMemory: p.GpuMemory };
    const given = Object.values(load).some((v) => v !== undefined);
    if (p.Clear === true && given)
      throw badParam("Clear", "clears the load; send it without Cpu/Memory/Gpu/GpuMemory");
    if (p.Clear !== true && !given)
      throw badParam("Cpu", "give Cpu, Memory, Gpu or GpuMemory (percent), or Clear=true");
    e.setLoad(p.UHostId, p.Clear === true ? undefined : load);
    return { UHostId: p.UHostId };
  },
});

export const clearFaults = defineAction({
  name: "EmulatorClearFaults",
  schema: {},
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx) {
    emulator(ctx).clearFaults();
    return {};
  },
});

export const reset = defineAction({
  name: "EmulatorReset",
  schema: {},
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx) {
    await emulator(ctx).reset();
    return {};
  },
});

export const status = defineAction({
  name: "EmulatorStatus",
  readOnly: true,
  schema: {},
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx) {
    const e = emulator(ctx);
    return {
      Now: unixSeconds(e.now()),
      OffsetSeconds: Math.floor(e.offsetMs / 1000),
      LatencyMs: e.latencyMs,
      DriverCalls: e.driverCalls,
      ApiFaults: e.apiFaults().map((x) => ({
        Action: x.action,
        RetCode: x.retCode,
        Message: x.message,
        Count: x.count ?? 0,
        Probability: x.probability ?? 0,
      })),
    };
  },
});
