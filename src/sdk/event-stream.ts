// The client side of GET /events, with no Node dependency: the SDK's events() and the browser
// console read the stream through this one module.
import { CompShareError } from "./errors.js";

/** One event of the stream: a committed change of a resource the caller may see. */
export interface CompShareEvent {
  /** The event's id, increasing in commit order; resume after it with Last-Event-ID. */
  Seq: number;
  /** Unix seconds (server clock). */
  Time: number;
  AccountId: string;
  ProjectId: string;
  ResourceType: "instance" | "image" | "disk";
  ResourceId: string;
  /** `instance.created`, `operation.started|finished|failed`, `schedule.set|cleared|fired`, `gpus.taken|released`, … */
  Kind: string;
  /** What changed, per kind (for operations: `operation`, `state`, and `reason` on failure). */
  Data: Record<string, unknown>;
}

/**
 * Sent first when a resume asked for events that retention has already removed (or for a seq this
 * server never had): whatever the client keeps from events should be re-read from the API.
 */
export interface StreamGap {
  Kind: "stream.gap";
  ResourceType: "stream";
  LastEventId: number;
  PrunedThrough: number;
  LastSeq: number;
}

export type StreamMessage = CompShareEvent | StreamGap;

/** Whether a message is the gap notice rather than an event. */
export function isGap(m: StreamMessage): m is StreamGap {
  return m.ResourceType === "stream";
}

export interface EventStreamOptions {
  /** The stream's URL with its signed query. */
  url: string;
  /** Resume after this event (sent as the Last-Event-ID header). */
  lastEventId?: number;
  /** Reconnect when the connection drops, resuming after the last event seen (default true). */
  reconnect?: boolean;
  signal?: AbortSignal;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Called each time a connection is established (the console shows the stream as live). */
  onOpen?: () => void;
  /** Called when a connection drops and a reconnect follows. */
  onDisconnect?: (reason: string) => void;
}

/** One message of the Server-Sent Events format. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

/**
 * Parses a Server-Sent Events body (lines ending in CRLF, LF or CR; `data` lines joined by LF;
 * comments skipped) into messages.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let data: string[] = [];
  let msg: SseMessage = {};
  try {
    for (let done = false; !done; ) {
      const chunk = await reader.read();
      done = chunk.done;
      buf += done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      for (;;) {
        const end = buf.search(/\r\n|\n|\r/);
        // A CR at the very end may be the first half of a CRLF split across chunks (not at the end).
        if (end === -1 || (!done && end === buf.length - 1 && buf.endsWith("\r"))) break;
        const line = buf.slice(0, end);
        buf = buf.slice(end + (buf.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) msg.data = data.join("\n");
          if (msg.data !== undefined || msg.retry !== undefined) yield msg;
          data = [];
          msg = {};
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let v = colon === -1 ? "" : line.slice(colon + 1);
        if (v.startsWith(" ")) v = v.slice(1);
        if (field === "data") data.push(v);
        else if (field === "id") msg.id = v;
        else if (field === "event") msg.event = v;
        else if (field === "retry" && /^\d+$/.test(v)) msg.retry = Number(v);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Reads the event stream as an async iterator. A dropped connection is re-made after the server's
 * `retry` delay, resuming after the last event seen, so nothing is missed within the retention.
 * An error answer (bad signature, unknown project, too many streams) rejects with a CompShareError.
 * Breaking out of the loop, or aborting `signal`, closes the connection.
 */
export async function* readEventStream(opts: EventStreamOptions): AsyncGenerator<StreamMessage> {
  const fetchImpl = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const reconnect = opts.reconnect ?? true;
  let last = opts.lastEventId;
  let retryMs = 2000;
  for (;;) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    opts.signal?.addEventListener("abort", abort);
    let reason = "the server ended the stream";
    try {
      const res = await fetchImpl(opts.url, {
        headers: last === undefined ? {} : { "Last-Event-ID": String(last) },
        signal: controller.signal,
      });
      if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream"))
        throw await answerError(res);
      opts.onOpen?.();
      for await (const m of parseSse(res.body as ReadableStream<Uint8Array>)) {
        if (m.retry !== undefined) retryMs = m.retry;
        if (m.data === undefined) continue;
        const message = JSON.parse(m.data) as StreamMessage;
        if (m.id !== undefined && /^\d+$/.test(m.id)) last = Number(m.id);
        yield message;
      }
    } catch (e) {
      // An answer of the API is final; a proxy's 502/503 while a replica restarts is not.
      if (e instanceof CompShareError && !(e.httpStatus !== undefined && e.retryable)) throw e;
      if (opts.signal?.aborted) return;
      reason = e instanceof Error ? e.message : String(e);
      if (!reconnect) throw new CompShareError(-1, reason, "Events", undefined);
    } finally {
      opts.signal?.removeEventListener("abort", abort);
      controller.abort();
    }
    if (!reconnect || opts.signal?.aborted) return;
    opts.onDisconnect?.(reason);
    await sleep(retryMs);
    if (opts.signal?.aborted) return;
  }
}

/** The error an answer that is not a stream carries (the API's JSON envelope), as a CompShareError. */
async function answerError(res: Response): Promise<CompShareError> {
  const requestId = res.headers.get("x-ucloud-request-uuid") ?? undefined;
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { RetCode?: number; Message?: string };
    if (typeof body.RetCode === "number" && body.RetCode !== 0)
      return new CompShareError(body.RetCode, body.Message ?? "", "Events", requestId);
  } catch {
    // not JSON: fall through to the status
  }
  return new CompShareError(-1, `HTTP ${res.status}: ${text.slice(0, 200)}`, "Events", requestId, res.status);
}
