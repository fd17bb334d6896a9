import { unixSeconds } from "../../domain/clock.js";
import type { EventRecord } from "../../domain/records.js";

/**
 * An event as the wire shows it, in the API's spelling (PascalCase, Unix seconds): the same shape on
 * the `GET /events` stream and in DescribeCompShareInstanceEvents.
 */
export function renderEvent(e: EventRecord) {
  return {
    Seq: e.seq,
    Time: unixSeconds(e.at),
    AccountId: e.accountId,
    ProjectId: e.projectId,
    ResourceType: e.resourceType,
    ResourceId: e.resourceId,
    Kind: e.kind,
    Data: e.data,
  };
}
