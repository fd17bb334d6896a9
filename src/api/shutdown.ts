import type { Server } from "node:http";

/**
 * Closes an HTTP server gracefully: `first` ends what would never finish by itself (the event
 * streams), then no new connections, requests in flight are answered, and every socket still open
 * is destroyed. Node's own close waits for sockets that carry no request at all
 * (fetch opens a spare one when a streamed body is aborted), which would hold a shutdown until the
 * headers timeout; those are closed here once nothing is in flight.
 */
export function gracefulCloser(http: Server, first?: () => Promise<void>): () => Promise<void> {
  let inFlight = 0;
  let idle: (() => void) | undefined;
  http.on("request", (_req, res) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  return async () => {
    await first?.();
    if (!http.listening) return;
    const closed = new Promise<void>((r) => http.close(() => r()));
    http.closeIdleConnections();
    if (inFlight > 0)
      await new Promise<void>((r) => {
        idle = r;
      });
    http.closeAllConnections();
    await closed;
  };
}
