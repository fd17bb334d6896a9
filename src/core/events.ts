import type { ImageRecord } from "../domain/images.js";
import type { EventRecord, EventResourceType, InstanceRecord } from "../domain/records.js";
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

/** What an event needs to know of the resource it is about: its id and who may see it. */
export interface EventOwner {
  id: string;
  accountId: string;
  projectId: string;
}

/**
 * Records an event about any resource in the caller's transaction (the store writes it just before
 * COMMIT), so it exists exactly when the change does. A new resource announces a change with one
 * call: `recordEvent(r, "disk", disk, "disk.attached", now, { uhostId })`. Kinds are
 * `<resource>.<what>` or `operation.<started|finished|failed>`; `data` is shown to the owner as is.
 */
export function recordEvent(
  r: Repos,
  resourceType: EventResourceType,
  owner: EventOwner,
  kind: string,
  at: number,
  data: Record<string, unknown> = {},
): Promise<void> {
  const e: Omit<EventRecord, "seq"> = {
    at,
    accountId: owner.accountId,
    projectId: owner.projectId,
    resourceType,
    resourceId: owner.id,
    kind,
    data,
  };
  return r.events.record(e);
}

/** {@link recordEvent} for an instance, with its kinds checked. */
export function recordInstanceEvent(
  r: Repos,
  inst: Pick<InstanceRecord, "id" | "accountId" | "projectId">,
  kind: InstanceEventKind,
  at: number,
  data: Record<string, unknown> = {},
): Promise<void> {
  return recordEvent(r, "instance", inst, kind, at, data);
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
  return recordEvent(r, "disk", { ...disk, projectId: disk.projectId ?? "" }, kind, at, data);
}

/** The kinds of image events. */
export type ImageEventKind =
  | "image.making"
  | "image.available"
  | "image.failed"
  | "image.updated"
  | "image.shared"
  | "image.unshared"
  | "image.deleted";

/**
 * Records an image event in the caller's transaction, like {@link recordInstanceEvent}. It is
 * announced in the project of the instance the image came from.
 */
export function recordImageEvent(
  r: Repos,
  image: Pick<ImageRecord, "id" | "accountId" | "projectId">,
  kind: ImageEventKind,
  at: number,
  data: Record<string, unknown> = {},
): Promise<void> {
  return recordEvent(r, "image", image, kind, at, data);
}
