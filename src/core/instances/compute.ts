import type { GpuTypeSpec } from "../../domain/catalog.js";
import type { InstanceRecord } from "../../domain/records.js";

/**
 * The CPU/memory an instance holds on its host: the type's no-GPU spec when it was started
 * WithoutGpu, else its own. The one place this rule is written (placement, the worker's runtime
 * spec, start-up recovery and Describe all use it).
 */
export function computeOf(
  inst: Pick<InstanceRecord, "withoutGpu" | "cpu" | "memory">,
  type: GpuTypeSpec | undefined,
): { cpu: number; memory: number } {
  return inst.withoutGpu && type
    ? { cpu: type.withoutGpu.cpu, memory: type.withoutGpu.memory }
    : { cpu: inst.cpu, memory: inst.memory };
}
