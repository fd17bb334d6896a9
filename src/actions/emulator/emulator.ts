import { unixSeconds } from "../../core/clock.js";
import { ApiError, badParam } from "../../protocol/errors.js";
import { f } from "../../protocol/schema.js";
import type { ActionContext } from "../types.js";
import { defineAction } from "../types.js";

/**
 * Emulator controls (extensions, root key only, simulated driver only): for users testing their own
 * CompShare automation. They are signed Actions on the same endpoint, so any SDK's `invoke` reaches them.
 */
function sim(ctx: ActionContext) {
  if (!ctx.deps.sim)
    throw new ApiError("PermissionDenied", { reason: "emulator controls need OCS_DRIVER=sim" });
  return ctx.deps.sim;
}

export const advanceClock = defineAction({
  name: "EmulatorAdvanceClock",
  schema: { Seconds: f.int({ required: true, min: 0, max: 10 * 365 * 86400 }) },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    sim(ctx);
    ctx.deps.clock.advance(p.Seconds * 1000);
    ctx.deps.worker.kick();
    return {
      Now: unixSeconds(ctx.deps.clock.now()),
      OffsetSeconds: Math.floor(ctx.deps.clock.offset / 1000),
    };
  },
});

export const setLatency = defineAction({
  name: "EmulatorSetLatency",
  schema: { Milliseconds: f.int({ required: true, min: 0, max: 600_000 }) },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    sim(ctx).latencyMs = p.Milliseconds;
    return { Milliseconds: p.Milliseconds };
  },
});

export const injectFault = defineAction({
  name: "EmulatorInjectFault",
  schema: {
    Target: f.str({ oneOf: ["Api", "Driver"] }),
    FaultAction: f.str(),
    Operation: f.str({ oneOf: ["create", "start", "stop", "reboot", "reinstall", "destroy"] }),
    RetCode: f.int({ min: 1, max: 999_999 }),
    Message: f.str({ required: true, maxLength: 500 }),
    Count: f.int({ min: 1, max: 1_000_000 }),
    Probability: f.float({ min: 0, max: 1 }),
  },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const s = sim(ctx);
    if (p.Count === undefined && p.Probability === undefined)
      throw badParam("Count", "give Count or Probability");
    if ((p.Target ?? "Api") === "Api") {
      if (!p.FaultAction) throw badParam("FaultAction", "name the Action to fail");
      if (p.RetCode === undefined) throw badParam("RetCode", "give the RetCode to return");
      ctx.deps.faults.add({
        action: p.FaultAction,
        retCode: p.RetCode,
        message: p.Message,
        count: p.Count,
        probability: p.Probability,
      });
    } else {
      if (!p.Operation) throw badParam("Operation", "name the driver operation to fail");
      s.injectFault({
        op: p.Operation as "create",
        message: p.Message,
        count: p.Count,
        probability: p.Probability,
      });
    }
    return {};
  },
});

export const clearFaults = defineAction({
  name: "EmulatorClearFaults",
  schema: {},
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx) {
    sim(ctx).clearFaults();
    ctx.deps.faults.clear();
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
    sim(ctx);
    await ctx.deps.reset?.();
    return {};
  },
});

export const status = defineAction({
  name: "EmulatorStatus",
  schema: {},
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx) {
    const s = sim(ctx);
    return {
      Now: unixSeconds(ctx.deps.clock.now()),
      OffsetSeconds: Math.floor(ctx.deps.clock.offset / 1000),
      LatencyMs: s.latencyMs,
      DriverCalls: { ...s.calls },
      ApiFaults: ctx.deps.faults.list().map((x) => ({
        Action: x.action,
        RetCode: x.retCode,
        Message: x.message,
        Count: x.count ?? 0,
        Probability: x.probability ?? 0,
      })),
    };
  },
});
