import type { EventFeed } from "../core/event-feed.js";
import { consoleHandler } from "./console-route.js";
import { serveEvents } from "./events-route.js";
import type { GatewayDeps } from "./gateway.js";
import type { Route } from "./http.js";

/**
 * The paths answered beside the API, the health check and the metrics (the table in http.ts):
 * the event stream and the web console.
 */
export function extraRoutes(gateway: GatewayDeps, feed: EventFeed, heartbeatMs = 15_000): Route[] {
  const serveConsole = consoleHandler();
  const events = { gateway, feed, log: gateway.log, heartbeatMs };
  return [
    {
      path: "/events",
      methods: ["GET"],
      handle: (req, res, client) =>
        serveEvents(events, req, res, client).catch((e) => {
          gateway.log.error("event stream failed", { err: e });
          res.destroy();
        }),
    },
    // `/console` itself redirects to `/console/`, whose files are the console's.
    { path: "/console", methods: ["GET", "HEAD"], handle: serveConsole },
    { path: "/console/", prefix: true, methods: ["GET", "HEAD"], handle: serveConsole },
  ];
}
