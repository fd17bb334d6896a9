/** Instance states, spelled as on the wire ([P] plus the SDK's Resizing and `Install Fail`). */
export const STATES = [
  "Install",
  "Running",
  "Stopping",
  "Stopped",
  "Starting",
  "Rebooting",
  "Resizing",
  "Install Fail",
] as const;
export type State = (typeof STATES)[number];

/** Operations that run through the worker and hold the per-instance lock until they finish. */
export type Operation =
  | "Create"
  | "Start"
  | "Stop"
  | "Reboot"
  | "Reinstall"
  | "Resize"
  | "Terminate"
  | "Recover";

export interface Transition {
  /** States the operation may start from (checked in the guarded update). */
  from: readonly State[];
  /** State shown while the operation runs. */
  during: State;
  /** State once the driver has done its part. */
  to: State;
  /** State if the driver fails; the reason goes to Remark. */
  onFail: State;
}

/**
 * The transition table (docs §3.1): Start only from Stopped, Stop and Reboot only from Running,
 * Terminate/Reinstall/Resize only from Stopped and back to Stopped. Recover (our extension) brings
 * an instance out of the recycle bin with a fresh system disk.
 */
export const TRANSITIONS: Record<Operation, Transition> = {
  Create: { from: [], during: "Install", to: "Running", onFail: "Install Fail" },
  Start: { from: ["Stopped"], during: "Starting", to: "Running", onFail: "Stopped" },
  Stop: { from: ["Running"], during: "Stopping", to: "Stopped", onFail: "Running" },
  Reboot: { from: ["Running"], during: "Rebooting", to: "Running", onFail: "Running" },
  Reinstall: { from: ["Stopped", "Install Fail"], during: "Install", to: "Stopped", onFail: "Stopped" },
  Resize: { from: ["Stopped"], during: "Resizing", to: "Stopped", onFail: "Stopped" },
  Terminate: { from: ["Stopped", "Install Fail"], during: "Stopped", to: "Stopped", onFail: "Stopped" },
  Recover: { from: ["Stopped", "Install Fail"], during: "Install", to: "Stopped", onFail: "Stopped" },
};

/** Instant (lock-checked, not lock-holding) changes and the states they are allowed from. */
export const INSTANT_ALLOWED = {
  ModifyName: STATES,
  ResetPasswordVm: ["Stopped"],
  ResetPasswordContainer: ["Stopped", "Running"],
  UpdateStopScheduler: ["Install", "Starting", "Running", "Rebooting"],
  DeleteStopScheduler: STATES,
} as const satisfies Record<string, readonly State[]>;

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${String(x)}`);
}
