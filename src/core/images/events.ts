import type { ImageRecord } from "../../domain/images.js";
import type { Repos } from "../../store/store.js";
import { recordEvent } from "../events.js";

/** The kinds of image events, as the event stream and the console name them. */
export type ImageEventKind =
  | "image.making"
  | "image.available"
  | "image.failed"
  | "image.updated"
  | "image.shared"
  | "image.unshared"
  | "image.deleted";

/**
 * Records an image event in the caller's transaction (the outbox of core/events.ts), so it exists
 * exactly when the change does. It is announced in the project of the instance the image came from.
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
