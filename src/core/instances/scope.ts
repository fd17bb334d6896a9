import { ApiError } from "../../domain/errors.js";
import type { AccountRecord, InstanceRecord, ProjectRecord } from "../../domain/records.js";

/** Who acts, in which project and where: every instance call is scoped by it. */
export interface Scope {
  account: AccountRecord;
  project: ProjectRecord;
  region: string;
  /** The Zone the caller sent, if any; an instance elsewhere is not found. */
  zone?: string;
}

/** Why a call runs: the scheduler and the 7-day release go through the user's paths. */
export type Origin = "user" | "scheduler" | "release";

/** Whether the caller may see this instance (own project, zone if given, bin or not). */
export function visible(inst: InstanceRecord | undefined, scope: Scope, inRecycle: boolean): boolean {
  return (
    inst !== undefined &&
    inst.projectId === scope.project.id &&
    inst.inRecycle === inRecycle &&
    (scope.zone === undefined || scope.zone === inst.zone)
  );
}

/** The instance, or the not-found error (another project's instance is not found either). */
export function visibleOrThrow(
  inst: InstanceRecord | undefined,
  id: string,
  scope: Scope,
  inRecycle = false,
): InstanceRecord {
  if (!visible(inst, scope, inRecycle))
    throw new ApiError(inRecycle ? "NotInRecycle" : "InstanceNotFound", { uhostId: id });
  return inst as InstanceRecord;
}

/** The scope a system-initiated call (scheduled stop, release) acts with: the instance's own. */
export function systemScope(inst: InstanceRecord): Scope {
  return {
    account: {
      id: inst.accountId,
      number: 0,
      name: "",
      isRoot: false,
      instanceQuota: Number.MAX_SAFE_INTEGER,
      gpuQuota: Number.MAX_SAFE_INTEGER,
      disabledAt: null,
      createdAt: 0,
    },
    project: { id: inst.projectId, accountId: inst.accountId, name: "", isDefault: false, createdAt: 0 },
    region: inst.region,
  };
}
