import type { Logger } from "../log.js";
import { consoleHandler } from "./console-route.js";
import type { EventsRouteDeps } from "./events-route.js";
import { serveEvents } from "./events-route.js";
import type { Route } from "./http.js";

/**
 * The paths answered beside the API, the health check and the metrics (the table in http.ts):
 * the event stream and the web console.
 */
export function extraRoutes(deps: { events: EventsRouteDeps; log: Logger; consoleDir?: string }): Route[] {
  const serveConsole = consoleHandler(deps.consoleDir);
  return [
    {
      path: "/events",
      methods: ["GET"],
      handle: (req, res, client) =>
        serveEvents(deps.events, req, res, client).catch((e) => {
          deps.log.error("event stream failed", { err: e });
          res.destroy();
        }),
    },
    // `/console` itself redirects to `/console/`, whose files are the console's.
    { path: "/console", methods: ["GET", "HEAD"], handle: serveConsole },
    { path: "/console/", prefix: true, methods: ["GET", "HEAD"], handle: serveConsole },
  ];
}
