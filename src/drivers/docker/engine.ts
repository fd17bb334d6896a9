import { request } from "node:http";
import type { IncomingMessage } from "node:http";

/** An error from Docker Engine, with its HTTP status (404 = no such container/image, 409 = conflict). */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
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
          timeout: opts.timeoutMs ?? 120_000,
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
      req.on("timeout", () =>
        req.destroy(new Error(`Docker Engine did not answer ${method} ${path} in time`)),
      );
      req.on("error", (e) => reject(this.unreachable(e)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * Streams one call's response body into another's request body (a container export into an image
   * import) without holding it in memory. Engines report failures inside a 200 progress stream as
   * `{"error": ...}` lines, so those are read too.
   */
  pipe(fromPath: string, toPath: string, contentType = "application/x-tar"): Promise<void> {
    const v = this.version;
    return new Promise<void>((resolve, reject) => {
      const src = request({ socketPath: this.socketPath, path: `/${v}${fromPath}`, method: "GET" });
      src.on("error", (e) => reject(this.unreachable(e)));
      src.on("response", (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readText(res).then((text) => reject(engineError(status, text)), reject);
          return;
        }
        const dst = request(
          {
            socketPath: this.socketPath,
            path: `/${v}${toPath}`,
            method: "POST",
            headers: { "Content-Type": contentType },
          },
          (out) => {
            readText(out).then((text) => {
              const st = out.statusCode ?? 0;
              if (st >= 400) return reject(engineError(st, text));
              for (const line of text.split("\n")) {
                try {
                  const m = JSON.parse(line) as { error?: string };
                  if (m.error) return reject(new EngineError(500, m.error));
                } catch {
                  /* progress text */
                }
              }
              resolve();
            }, reject);
          },
        );
        dst.on("error", (e) => {
          res.destroy();
          reject(this.unreachable(e));
        });
        res.on("error", (e) => dst.destroy(e));
        res.pipe(dst);
      });
      src.end();
    });
  }

  /**
   * Follows the event stream; returns a function that stops it. The stream ends when dockerd
   * restarts, so it is followed again (after `retryMs`) until stopped; the reconciler's sweep
   * covers what happened in between.
   */
  events(
    filters: Record<string, string[]>,
    onEvent: (e: { Action: string; Actor: { Attributes: Record<string, string> } }) => void,
    retryMs = 1000,
  ): () => void {
    let stopped = false;
    let req: ReturnType<typeof request> | undefined;
    let timer: NodeJS.Timeout | undefined;
    const again = () => {
      if (stopped || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        follow();
      }, retryMs);
      timer.unref();
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
      r.on("error", again);
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
    return new EngineError(0, `Docker Engine unreachable at ${this.socketPath}: ${e.message}${hint}`);
  }
}
