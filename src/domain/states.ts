/**
 * Instance states, spelled as on the wire: [P]'s, the SDKs' Resizing and `Install Fail`, and
 * Reinstalling, which the official CLI's wait loop lists among the states still in progress (it
 * would take a reinstall shown as `Install` for finished).
 */
export const STATES = [
  "Install",
  "Running",
  "Stopping",
  "Stopped",
  "Starting",
  "Rebooting",
  "Resizing",
  "Reinstalling",
  "Install Fail",
] as const;
export type State = (typeof STATES)[number];

/** Closes an exhaustive `switch`: the compiler proves it unreachable, and a value from outside the type fails loudly. */
export function assertNever(x: never): never {
  throw new Error(`unexpected value ${String(x)}`);
}
