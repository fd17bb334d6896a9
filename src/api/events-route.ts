import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { renderEvent } from "../actions/instances/render-event.js";
import type { EventFeed, EventFilter, EventGap, EventStream } from "../core/event-feed.js";
import { badParam } from "../domain/errors.js";
import type { Logger } from "../log.js";
import { decodeParams } from "../protocol/params.js";
import { coerce, f } from "../protocol/schema.js";
import type { GatewayDeps } from "./gateway.js";
import { authenticateRequest, ownParams, renderError, sendEnvelope } from "./gateway.js";

export interface EventsRouteDeps {
  /** Authentication (with its throttles and audit) and the accounts, as for every Action. */
  gateway: GatewayDeps;
  feed: EventFeed;
  log: Logger;
  /** A comment line is sent after this long without events, so proxies and clients see a live stream. */
  heartbeatMs: number;
}

/** The stream's own parameters, besides PublicKey, Signature and ProjectId. */
const SCHEMA = {
  UHostIds: f.arr(f.str({ maxLength: 64 }), { maxItems: 100 }),
  /** Every project of the account; for the root account, every account's events. */
  AllProjects: f.bool(),
  /** Where a client that cannot send the Last-Event-ID header resumes (the header wins). */
  LastEventId: f.int({ min: 0 }),
};

/**
 * `GET /events`: Server-Sent Events for a caller authenticated like an Action (a signed query).
 * Errors before the stream starts are the usual JSON envelope (HTTP 200, `Action: EventsResponse`),
 * which an EventSource treats as a failed connection and does not retry.
 */
export async function serveEvents(
  deps: EventsRouteDeps,
  req: IncomingMessage,
  res: ServerResponse,
  client: string,
): Promise<void> {
  const requestId = randomUUID();
  let opened: { stream: EventStream; gap?: EventGap };
  try {
    opened = await openStream(deps, req, requestId, client);
  } catch (e) {
    sendEnvelope(res, requestId, renderError(deps.log, requestId, "Events", e).body);
    return;
  }
  const { stream, gap } = opened;
  let open = true;
  const closed = () => {
    open = false;
    stream.close();
  };
  req.on("close", closed);
  res.on("close", closed);
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
    // The socket is not reused after a stream (and a server shutting down does not wait on it).
    Connection: "close",
    "X-UCLOUD-REQUEST-UUID": requestId,
  });
  // `retry` is how long an EventSource waits before it reconnects with Last-Event-ID.
  let out = "retry: 2000\n: stream open\n\n";
  if (gap) {
    const lost = { Kind: "stream.gap", ResourceType: "stream", ...capitalised(gap) };
    out += `data: ${JSON.stringify(lost)}\n\n`;
  }
  try {
    while (open) {
      if (out && !res.write(out)) await drained(res);
      out = "";
      const batch = await stream.next(deps.heartbeatMs);
      if (batch === null) break;
      if (batch.length === 0) out = ": heartbeat\n\n";
      for (const e of batch) out += `id: ${e.seq}\ndata: ${JSON.stringify(renderEvent(e))}\n\n`;
    }
  } catch (e) {
    // The client reconnects with Last-Event-ID and resumes where this stream stopped.
    deps.log.warn("event stream failed", { requestId, err: e });
  } finally {
    stream.close();
    res.end();
  }
}

async function openStream(
  deps: EventsRouteDeps,
  req: IncomingMessage,
  requestId: string,
  client: string,
): Promise<{ stream: EventStream; gap?: EventGap }> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const decoded = decodeParams(
    q === -1 ? "" : url.slice(q + 1),
    Buffer.alloc(0),
    undefined,
    deps.gateway.limits,
  );
  const { account } = await authenticateRequest(
    deps.gateway,
    requestId,
    "Events",
    client,
    decoded.signParams,
  );
  const accounts = deps.gateway.services.accounts;
  const p = coerce(SCHEMA, ownParams(decoded.tree), { unknown: [] });
  const projectId = decoded.tree.ProjectId;
  if (projectId !== undefined && typeof projectId !== "string")
    throw badParam("ProjectId", "must be a string");

  const filter: EventFilter = {};
  if (p.AllProjects) {
    if (projectId) throw badParam("AllProjects", "give ProjectId or AllProjects=true, not both");
    if (!account.isRoot) filter.accountId = account.id;
  } else {
    const project = await accounts.resolveProject(account.id, projectId || undefined);
    filter.accountId = account.id;
    filter.projectIds = [project.id];
  }
  if (p.UHostIds) filter.resourceIds = p.UHostIds;

  const header = req.headers["last-event-id"];
  let lastEventId = p.LastEventId;
  if (typeof header === "string" && header !== "") {
    if (!/^\d{1,15}$/.test(header))
      throw badParam("Last-Event-ID", "must be the id of an event (a whole number)");
    lastEventId = Number(header);
  }
  return deps.feed.open(account.id, filter, lastEventId);
}

function capitalised(gap: EventGap) {
  return { LastEventId: gap.lastEventId, PrunedThrough: gap.prunedThrough, LastSeq: gap.lastSeq };
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
