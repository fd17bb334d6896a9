import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import { consoleHandler } from "./console-route.js";
import type { EventsRouteDeps } from "./events-route.js";
import { serveEvents } from "./events-route.js";

/** The paths answered beside the API endpoint: the event stream and the web console. */
export const EXTRA_PATHS = { events: "/events", console: "/console" } as const;

/** Whether a request path is one of {@link EXTRA_PATHS} (the console with everything under it). */
export function isExtraPath(path: string): boolean {
  return (
    path === EXTRA_PATHS.events || path === EXTRA_PATHS.console || path.startsWith(`${EXTRA_PATHS.console}/`)
  );
}

/** A handler for the {@link EXTRA_PATHS}; false for any other path (the API answers it). */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

export function extraRoutes(deps: {
  events: EventsRouteDeps;
  log: Logger;
  consoleDir?: string;
}): ExtraRoutes {
  const serveConsole = consoleHandler(deps.consoleDir);
  return (req, res, path) => {
    if (!isExtraPath(path)) return false;
    if (path === EXTRA_PATHS.events) {
      serveEvents(deps.events, req, res).catch((e) => {
        deps.log.error("event stream failed", { err: e });
        res.destroy();
      });
    } else serveConsole(req, res);
    return true;
  };
}
