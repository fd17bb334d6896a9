import { ApiError } from "../../domain/errors.js";
import type { InstanceRecord } from "../../domain/records.js";
import { STATES } from "../../domain/states.js";
import type { State } from "../../domain/states.js";
import { imageableStates } from "../images/rules.js";
import { explain, imageInProgress } from "./engine.js";
import type { OperationEnv } from "./operation.js";
import type { OperationName } from "./operations.js";
import { OPERATIONS } from "./operations.js";

/** Instant (lock-checked, not lock-holding) changes and the states they are allowed from. */
export const INSTANT_ALLOWED = {
  ModifyName: STATES,
  ResetPasswordVm: ["Stopped"],
  ResetPasswordContainer: ["Stopped", "Running"],
  UpdateStopScheduler: ["Install", "Starting", "Running", "Rebooting"],
  DeleteStopScheduler: STATES,
} as const satisfies Record<string, readonly State[]>;

/** Whether an Action may be asked of an instance now; if not, the error it would get. */
export interface ActionRule {
  /** The wire Action. */
  action: string;
  /** A way of calling it with its own rule: `WithoutGpu` (Start), `Force` (Stop). */
  variant: string;
  allowed: boolean;
  retCode: number;
  message: string;
}

/**
 * The rules of every Action on one instance, as they stand: the operation table's states, the lock,
 * and the entries' own checks, run with the input that variant sends. The same code refuses the
 * call itself, so a console can say why before the click. Rules that depend on other input (a new
 * spec, a stop time) are checked when the call is made.
 */
export function actionRules(inst: InstanceRecord, env: OperationEnv, freeGpusOnHost: number): ActionRule[] {
  /**
   * `heldUpBy`: the name an image job's refusal gives the call (the engine names its operation),
   * for every Action but the instant changes, which an image job does not hold up.
   */
  const rule = (
    action: string,
    variant: string,
    from: readonly State[],
    check?: () => void,
    heldUpBy?: string,
  ): ActionRule => {
    try {
      // As the calls themselves do: an image job is named before the lock and the state.
      if (heldUpBy !== undefined && inst.makingImage) throw imageInProgress(inst, heldUpBy);
      const locked = inst.operation !== null && (inst.operationExpiresAt ?? 0) >= env.now;
      if (locked || !from.includes(inst.state)) throw explain(inst, action, from, env.now);
      check?.();
      return { action, variant, allowed: true, retCode: 0, message: "" };
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      return { action, variant, allowed: false, retCode: e.retCode, message: e.message };
    }
  };
  const op = OPERATIONS;
  /** An entry of the operation table, which the engine refuses during an image job. */
  const operation = (name: OperationName, variant = "", check?: () => void, action = op[name].action) =>
    rule(action, variant, op[name].from, check, name);
  if (inst.inRecycle) return [operation("Recover")];
  const container = inst.instanceType === "Container";
  return [
    operation("Start", "", () => {
      op.Start.check?.(inst, { withoutGpu: false }, "user", env);
      if (freeGpusOnHost < inst.gpu)
        throw new ApiError("NotEnoughGpuOnHost", {
          gpuType: inst.gpuType,
          need: inst.gpu,
          free: freeGpusOnHost,
        });
    }),
    operation("Start", "WithoutGpu", () => op.Start.check?.(inst, { withoutGpu: true }, "user", env)),
    operation("Stop", "", () => op.Stop.check?.(inst, { force: false }, "user", env)),
    operation("Stop", "Force", () => op.Stop.check?.(inst, { force: true }, "user", env)),
    operation("Reboot", "", () => op.Reboot.check?.(inst, {}, "user", env)),
    operation("Reinstall"),
    operation("Resize"),
    rule("ModifyCompShareInstanceName", "", INSTANT_ALLOWED.ModifyName),
    rule(
      "ResetCompShareInstancePassword",
      "",
      container ? INSTANT_ALLOWED.ResetPasswordContainer : INSTANT_ALLOWED.ResetPasswordVm,
    ),
    rule("UpdateCompShareStopScheduler", "", INSTANT_ALLOWED.UpdateStopScheduler, () => {
      if (inst.chargeType === "Spot") throw new ApiError("StopSchedulerNotAllowed", { uhostId: inst.id });
    }),
    rule("DeleteCompShareStopScheduler", "", INSTANT_ALLOWED.DeleteStopScheduler),
    operation("Terminate", "", () => op.Terminate.check?.(inst, { releaseUDisk: false }, "user", env)),
    rule("CreateCompShareCustomImage", "", imageableStates(inst), undefined, "CreateCompShareCustomImage"),
    // Data disks go through the instance's lock: attach on Running or Stopped, the rest Stopped.
    operation("AttachDisk", "", undefined, "CreateAndAttachCompshareDisk"),
    operation("AttachDisk"),
    operation("DetachDisk"),
    operation("ResizeDisk"),
    operation("UpdatePorts", "", () => op.UpdatePorts.check?.(inst, { http: [], tcp: [] }, "user", env)),
  ];
}
