import { request } from "node:http";
import type { ClientRequest, IncomingMessage } from "node:http";

/**
 * Why a call failed: `engine`, the engine answered with an error; `unreachable`, nothing listens on
 * the socket (engine down); `timeout`, it is there but did not finish in time (engine slow or stuck).
 */
export type EngineErrorKind = "engine" | "unreachable" | "timeout";

/**
 * An error from Docker Engine, with its HTTP status (404 = no such container/image, 409 = conflict;
 * 0 where no answer came, and then `kind` says why).
 */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly kind: EngineErrorKind = "engine",
  ) {
    super(message);
    this.name = "EngineError";
  }
}

/** Options of {@link Engine.pipe}. */
export interface PipeOptions {
  /** The whole transfer's limit; a large container's export can take many minutes (default 30 min). */
  timeoutMs?: number;
  /** How long neither side may move a byte before the transfer is given up (default 5 min). */
  idleMs?: number;
}

/** Options of {@link Engine.events}. */
export interface EventsOptions {
  /** The first wait before following the stream again (default 1 s); doubled while it keeps failing. */
  retryMs?: number;
  /** The longest wait between tries while the engine keeps failing (default 30 s). */
  maxRetryMs?: number;
  /** Hears each failure to follow the stream (error answer, socket error), so the caller can log it. */
  onError?: (err: EngineError) => void;
}

function timedOut(what: string, ms: number, why: string): EngineError {
  return new EngineError(0, `Docker Engine timed out on ${what}: ${why} ${ms / 1000} s`, "timeout");
}

/** An error answer's JSON `message`, or its text. */
function engineError(status: number, text: string): EngineError {
  let message = text.trim();
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? message;
  } catch {
    /* plain text */
  }
  return new EngineError(status, message || `HTTP ${status}`);
}

/**
 * The call's result, or undefined where the engine answers with one of `statuses` (404: no such
 * thing, 304: already so, 409: still in use), the answers that mean there is nothing left to do.
 */
export async function unless<T>(call: Promise<T>, ...statuses: number[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (e) {
    if (e instanceof EngineError && statuses.includes(e.status)) return undefined;
    throw e;
  }
}

/** A whole response body as text. */
function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
  });
}

/**
 * The few Docker Engine API calls the driver needs, over the unix socket with node:http (no
 * dependency). API version 1.41 is served by every engine since Docker 20.10.
 */
export class Engine {
  constructor(
    readonly socketPath = "/var/run/docker.sock",
    private readonly version = "v1.41",
  ) {}

  call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: { timeoutMs?: number; raw?: boolean } = {},
  ): Promise<T> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const timeoutMs = opts.timeoutMs ?? 120_000;
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path: `/${this.version}${path}`,
          method,
          headers:
            payload === undefined
              ? {}
              : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) },
          timeout: timeoutMs,
        },
        (res) => {
          readText(res).then((text) => {
            const status = res.statusCode ?? 0;
            if (status >= 400) return reject(engineError(status, text));
            if (opts.raw || text.length === 0) return resolve(text as T);
            try {
              resolve(JSON.parse(text) as T);
            } catch {
              resolve(text as T);
            }
          }, reject);
        },
      );
      // Settled before the destroy, whose socket error would otherwise read as "unreachable".
      req.on("timeout", () => {
        reject(timedOut(`${method} ${path}`, timeoutMs, "nothing received for"));
        req.destroy();
      });
      req.on("error", (e) => reject(this.unreachable(e)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * Streams one call's response body into another's request body (a container export into an image
   * import) without holding it in memory. Engines report failures inside a 200 progress stream as
   * `{"error": ...}` lines, so those are read too. A transfer that runs past `timeoutMs`, or moves no
   * byte for `idleMs`, has both requests aborted and rejects with a `timeout` EngineError.
   */
  pipe(
    fromPath: string,
    toPath: string,
    contentType = "application/x-tar",
    opts: PipeOptions = {},
  ): Promise<void> {
    const v = this.version;
    const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
    const idleMs = opts.idleMs ?? 5 * 60_000;
    const what = `GET ${fromPath} piped into POST ${toPath}`;
    return new Promise<void>((resolve, reject) => {
      let dst: ClientRequest | undefined;
      let done = false;
      const settle = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(total);
        clearTimeout(idle);
        if (!err) return resolve();
        src.destroy();
        dst?.destroy();
        reject(err);
      };
      const total = setTimeout(() => settle(timedOut(what, timeoutMs, "not done in")), timeoutMs);
      const idle = setTimeout(() => settle(timedOut(what, idleMs, "nothing moved for")), idleMs);
      const progress = () => idle.refresh();
      const src = request({ socketPath: this.socketPath, path: `/${v}${fromPath}`, method: "GET" });
      src.on("error", (e) => settle(this.unreachable(e)));
      src.on("response", (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readText(res).then((text) => settle(engineError(status, text)), settle);
          return;
        }
        res.on("data", progress);
        const out = request(
          {
            socketPath: this.socketPath,
            path: `/${v}${toPath}`,
            method: "POST",
            headers: { "Content-Type": contentType },
          },
          (answer) => {
            answer.on("data", progress);
            readText(answer).then((text) => {
              const st = answer.statusCode ?? 0;
              if (st >= 400) return settle(engineError(st, text));
              for (const line of text.split("\n")) {
                try {
                  const m = JSON.parse(line) as { error?: string };
                  if (m.error) return settle(new EngineError(500, m.error));
                } catch {
                  /* progress text */
                }
              }
              settle();
            }, settle);
          },
        );
        dst = out;
        out.on("error", (e) => settle(this.unreachable(e)));
        res.on("error", (e) => out.destroy(e));
        res.pipe(out);
      });
      src.end();
    });
  }

  /**
   * Follows the event stream; returns a function that stops it. The stream ends when dockerd
   * restarts, so it is followed again until stopped; the reconciler's sweep covers what happened in
   * between. An error answer or socket error goes to `onError` and the wait before the next try
   * doubles, up to `maxRetryMs`, so a broken engine is neither hammered nor silent. A number as
   * `opts` is `retryMs`.
   */
  events(
    filters: Record<string, string[]>,
    onEvent: (e: { Action: string; Actor: { Attributes: Record<string, string> } }) => void,
    opts: number | EventsOptions = {},
  ): () => void {
    const {
      retryMs = 1000,
      maxRetryMs = 30_000,
      onError,
    } = typeof opts === "number" ? { retryMs: opts } : opts;
    let stopped = false;
    let req: ClientRequest | undefined;
    let timer: NodeJS.Timeout | undefined;
    let wait = retryMs;
    const again = () => {
      if (stopped || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        follow();
      }, wait);
      timer.unref();
      wait = Math.min(wait * 2, Math.max(maxRetryMs, retryMs));
    };
    const failed = (err: EngineError) => {
      if (stopped) return;
      onError?.(err);
      again();
    };
    const follow = () => {
      if (stopped) return;
      let buf = "";
      const r = request({
        socketPath: this.socketPath,
        path: `/${this.version}/events?filters=${encodeURIComponent(JSON.stringify(filters))}`,
        method: "GET",
      });
      req = r;
      r.on("response", (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          readText(res).then((text) => failed(engineError(status, text)), again);
          return;
        }
        // The engine answers: the next end is a restart, not a fault, so it is followed again soon.
        wait = retryMs;
        res.on("data", (c: Buffer) => {
          buf += c.toString("utf8");
          let nl = buf.indexOf("\n");
          while (nl !== -1) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) {
              try {
                onEvent(JSON.parse(line));
              } catch {
                /* a partial or foreign line: the periodic sweep covers what is missed */
              }
            }
            nl = buf.indexOf("\n");
          }
        });
        res.on("end", again);
        res.on("error", again);
      });
      r.on("error", (e) => failed(this.unreachable(e)));
      r.end();
    };
    follow();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      req?.destroy();
    };
  }

  private unreachable(e: NodeJS.ErrnoException): EngineError {
    const hint = e.code === "ENOENT" || e.code === "ECONNREFUSED" ? " (is dockerd running?)" : "";
    return new EngineError(
      0,
      `Docker Engine unreachable at ${this.socketPath}: ${e.message}${hint}`,
      "unreachable",
    );
  }
}
