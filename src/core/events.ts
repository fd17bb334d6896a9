import type { EventRecord, InstanceRecord } from "../domain/records.js";
import type { Repos } from "../store/store.js";

/** The kinds of instance events, as the event stream and the console name them. */
export type InstanceEventKind =
  | "instance.created"
  | "instance.renamed"
  | "instance.password-reset"
  | "instance.stopped-out-of-band"
  | "instance.moved"
  | "instance.purged"
  | "operation.started"
  | "operation.finished"
  | "operation.failed"
  | "schedule.set"
  | "schedule.cleared"
  | "schedule.fired"
  | "gpus.taken"
  | "gpus.released";

/**
 * Records an instance event in the caller's transaction (the store writes it just before COMMIT),
 * so it exists exactly when the change does.
 */
export function recordInstanceEvent(
  r: Repos,
  inst: Pick<InstanceRecord, "id" | "accountId" | "projectId">,
  kind: InstanceEventKind,
  at: number,
  data: Record<string, unknown> = {},
): Promise<void> {
  const e: Omit<EventRecord, "seq"> = {
    at,
    accountId: inst.accountId,
    projectId: inst.projectId,
    resourceType: "instance",
    resourceId: inst.id,
    kind,
    data,
  };
  return r.events.record(e);
}

/** The kinds of disk events. */
export type DiskEventKind =
  | "disk.created"
  | "disk.attaching"
  | "disk.attached"
  | "disk.detaching"
  | "disk.detached"
  | "disk.resized"
  | "disk.deleted";

/** Records a disk event in the caller's transaction, like {@link recordInstanceEvent}. */
export function recordDiskEvent(
  r: Repos,
  disk: { id: string; accountId: string; projectId: string | null },
  kind: DiskEventKind,
  at: number,
  data: Record<string, unknown> = {},
): Promise<void> {
  return r.events.record({
    at,
    accountId: disk.accountId,
    projectId: disk.projectId ?? "",
    resourceType: "disk",
    resourceId: disk.id,
    kind,
    data,
  });
}
