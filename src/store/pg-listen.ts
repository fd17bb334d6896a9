import pg from "pg";

/** A LISTEN that keeps itself connected. */
export interface Listener {
  /**
   * Settles once the first LISTEN is in place (or its first attempt failed): a reader that reads
   * after this cannot miss a commit that no notification announces.
   */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * LISTENs on `channel` over a connection of its own (a pooled one would be handed to other queries),
 * calling `onNotify` for each notification. A lost connection is re-made with a capped backoff, and
 * `onNotify` is called once it is back, since notifications sent meanwhile are gone.
 */
export function listenPg(url: string, channel: string, onNotify: () => void): Listener {
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let settle: () => void = () => {};
  const ready = new Promise<void>((r) => {
    settle = r;
  });

  const connect = async () => {
    timer = undefined;
    if (closed) return;
    const c = new pg.Client({ connectionString: url });
    client = c;
    // Errors arrive here as well as through the promises below; either way the connection is re-made.
    c.on("error", () => retry(c));
    c.on("end", () => retry(c));
    c.on("notification", () => onNotify());
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      if (failures > 0) onNotify();
      failures = 0;
    } catch {
      retry(c);
    } finally {
      settle();
    }
  };
  const retry = (c: pg.Client) => {
    if (closed || client !== c) return;
    client = undefined;
    c.end().catch(() => {});
    failures++;
    timer = setTimeout(connect, Math.min(10_000, 200 * 2 ** failures));
  };
  void connect();
  return {
    ready,
    async close() {
      closed = true;
      settle();
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
