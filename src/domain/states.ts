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

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${String(x)}`);
}
