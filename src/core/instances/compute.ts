import type { GpuTypeSpec } from "../../domain/catalog.js";
import type { InstanceRecord } from "../../domain/records.js";

/**
 * The CPU/memory an instance holds on its host: the type's no-GPU spec when it was started
 * WithoutGpu, else its own. The one place this rule is written (placement, the worker's runtime
 * spec, start-up recovery and Describe all use it).
 */
export function computeOf(
  inst: Pick<InstanceRecord, "withoutGpu" | "cpu" | "memory"> & { withoutGpuSpec?: string | null },
  type: GpuTypeSpec | undefined,
): { cpu: number; memory: number } {
  if (!inst.withoutGpu || !type) return { cpu: inst.cpu, memory: inst.memory };
  return noGpuSpec(type, inst.withoutGpuSpec ?? DEFAULT_NO_GPU_SPEC) ?? { ...type.withoutGpu };
}

/** The spec a no-GPU start gets when none is named (`WithoutGpu=true`). */
export const DEFAULT_NO_GPU_SPEC = "A";

/** A type's named no-GPU specs (A = its `withoutGpu`, B = twice that, unless the catalog names them). */
export function noGpuSpecs(type: GpuTypeSpec): Record<string, { cpu: number; memory: number }> {
  return (
    type.withoutGpuSpecs ?? {
      A: { ...type.withoutGpu },
      B: { cpu: type.withoutGpu.cpu * 2, memory: type.withoutGpu.memory * 2 },
    }
  );
}

export function noGpuSpec(type: GpuTypeSpec, name: string): { cpu: number; memory: number } | undefined {
  const specs = noGpuSpecs(type);
  return Object.hasOwn(specs, name) ? specs[name] : undefined;
}
