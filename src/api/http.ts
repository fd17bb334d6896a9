import { createServer } from "node:http";
import type { Server } from "node:http";
import type { Logger } from "../log.js";
import type { GatewayDeps } from "./gateway.js";
import { handleApi } from "./gateway.js";
import type { ExtraRoutes } from "./routes.js";

export interface HttpDeps {
  gateway: GatewayDeps;
  log: Logger;
  /** Name of the driver, shown by /healthz. */
  driverName: string;
  /** `/events` and `/console/` (src/api/routes.ts). */
  extra?: ExtraRoutes;
}

/**
 * The HTTP server: `/healthz`, Prometheus `/metrics`, and the API on every other path (the SDKs
 * post to the base URL as given, which may carry a path).
 */
export function createHttpServer(deps: HttpDeps): Server {
  const { gateway, log } = deps;
  const http = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ status: "ok", driver: deps.driverName }));
      return;
    }
    if (req.method === "GET" && path === "/metrics") {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      res.end(gateway.metrics.render());
      return;
    }
    if (deps.extra?.(req, res, path ?? "/")) return;
    handleApi(gateway, req, res).catch((e) => {
      log.error("unhandled", { err: e });
      if (!res.headersSent) res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ Action: "Response", RetCode: 130, Message: "Internal error" }));
    });
  });
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  http.requestTimeout = 60_000;
  return http;
}
