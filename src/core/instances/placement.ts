import type { HostRoom } from "../../domain/records.js";

export interface Demand {
  gpu: number;
  cpu: number;
  memory: number;
}

/**
 * The one placement rule, used by Create and by capacity/availability answers so they can never
 * disagree: best fit, i.e. the host with the fewest free GPUs that still fits, so whole hosts stay
 * free for 8-GPU requests. Ties go to the host id, for a deterministic choice.
 */
export function pickHost<H extends HostRoom>(hosts: H[], d: Demand): H | undefined {
  return hosts
    .filter((h) => h.gpusFree >= d.gpu && h.cpuFree >= d.cpu && h.memoryFree >= d.memory)
    .sort((a, b) => a.gpusFree - b.gpusFree || a.id.localeCompare(b.id))[0];
}
