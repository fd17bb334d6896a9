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

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${String(x)}`);
}
