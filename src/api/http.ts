import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { Server as TlsServer } from "node:https";
import type { Logger } from "../log.js";
import { answers } from "./coalesce.js";
import type { GatewayDeps } from "./gateway.js";
import { clientAddress, handleApi, renderError, sendEnvelope } from "./gateway.js";

/** PEM certificate chain and private key for HTTPS. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

export interface HttpDeps {
  gateway: GatewayDeps;
  log: Logger;
  /** Name of the driver, shown by /healthz. */
  driverName: string;
  /** Present: the listener speaks HTTPS only. */
  tls?: TlsFiles;
  /** Present: /metrics wants `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Connection limits and timeouts (README "Security"); absent: the defaults. */
  limits?: { headersTimeoutMs: number; requestTimeoutMs: number; maxConnections: number };
  /** Take the client address from X-Forwarded-For (behind a trusted proxy). */
  trustProxy?: boolean;
  /** More documented paths: the event stream and the web console (src/api/routes.ts). */
  extraRoutes?: Route[];
}

/** One documented path. Nothing else answers (404), so a scanner learns nothing from a guess. */
export interface Route {
  path: string;
  /** The path is a prefix (`/console/`): every path under it is this route's. */
  prefix?: boolean;
  /** Methods served (405 otherwise); absent: all, for the API, which answers a wrong one itself. */
  methods?: readonly string[];
  handle(req: IncomingMessage, res: ServerResponse, client: string): void | Promise<void>;
}

/**
 * Every path the server answers; README "Security" lists them. The API is at `/` only: every
 * official SDK posts to its base URL as configured, which for CompShare is the host's root
 * (`https://api.compshare.cn`), so a base URL with a path is a misconfiguration that a plain 404
 * reports at once (the SDKs show "404 http status error").
 */
function routes(deps: HttpDeps): Route[] {
  return [
    { path: "/", handle: (req, res, client) => handleApi(deps.gateway, req, res, client) },
    {
      path: "/healthz",
      methods: ["GET"],
      handle: (_req, res) => sendJson(res, 200, { status: "ok", driver: deps.driverName }),
    },
    {
      path: "/metrics",
      methods: ["GET"],
      handle: (req, res) => {
        if (deps.metricsToken !== undefined && !bearerMatches(req, deps.metricsToken)) {
          res.writeHead(401, { "WWW-Authenticate": "Bearer", "Content-Type": "text/plain" });
          res.end("a bearer token is required (OCS_METRICS_TOKEN)\n");
          return;
        }
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
        res.end(deps.gateway.metrics.render());
      },
    },
    ...(deps.extraRoutes ?? []),
  ];
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(payload);
}

/** Constant-time comparison of the request's bearer token (digests, so lengths do not leak). */
function bearerMatches(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
  if (!m) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(m[1] as string), digest(token));
}

function match(table: Route[], path: string): Route | undefined {
  return table.find((r) => (r.prefix ? path.startsWith(r.path) : path === r.path));
}

/**
 * The HTTP (or, with `tls`, HTTPS) server over the route table. Header and request timeouts are
 * checked every second (Node's default checks every 30 s, which lets a slow client hold a
 * connection far past them), and connections past the cap are closed as they arrive.
 */
export function createHttpServer(deps: HttpDeps): Server {
  const { log } = deps;
  const table = routes(deps);
  const limits = deps.limits ?? { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 1024 };
  const options: ServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Longer than the usual load balancer's idle timeout (60 s), so the balancer closes first.
    keepAliveTimeout: 65_000,
    connectionsCheckingInterval: 1000,
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    const route = match(table, path);
    if (!route) {
      sendJson(res, 404, { Message: "no such path; the API is served at / (POST or GET)" });
      return;
    }
    if (route.methods && !route.methods.includes(req.method ?? "")) {
      sendJson(
        res,
        405,
        { Message: `use ${route.methods.join(" or ")}` },
        { Allow: route.methods.join(", ") },
      );
      return;
    }
    const client = clientAddress(req, deps.trustProxy ?? false);
    // A handler that throws at once is caught like one that rejects.
    Promise.resolve()
      .then(() => route.handle(req, res, client))
      .catch((e) => {
        // The one renderer logs it with a request id and answers InternalError from the error table.
        const requestId = randomUUID();
        const r = renderError(log, requestId, "", e);
        // Headers sent: a stream cut short, or an answer waiting for its turn's flush, which
        // writes it whole (ending it here would leave its client waiting for the body).
        if (res.headersSent) {
          if (!answers.holds(res)) res.end();
        } else sendEnvelope(res, requestId, r.body);
      });
  };
  const server = deps.tls
    ? (createTlsServer({ ...options, cert: deps.tls.cert, key: deps.tls.key }, handler) as unknown as Server)
    : createServer(options, handler);
  server.maxConnections = limits.maxConnections;
  return server;
}

/** Puts a new certificate and key in place for new connections (SIGHUP); throws on a bad pair. */
export function reloadTls(server: Server, files: TlsFiles): void {
  (server as unknown as TlsServer).setSecureContext({ cert: files.cert, key: files.key });
}
