import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { createPgDatabase, pgSkip } from "../../test/helpers.js";
import { openStore } from "./store.js";

describe("PostgreSQL pool size (OCS_DATABASE_POOL)", pgSkip(), () => {
  it("a replica opens at most `pool` connections; statements beyond wait for one", async () => {
    const url = (await createPgDatabase()) as string;
    // 2, the least OCS_DATABASE_POOL takes: start-up migrates through one while it holds the
    // migration lock on the other.
    for (const [pool, want] of [
      [2, 2],
      [undefined, 10],
    ] as const) {
      const store = await openStore({ postgres: url, pool });
      const watcher = new pg.Client(url);
      await watcher.connect();
      try {
        // Twenty reads asked in one tick: the pool opens a connection for each until it is full,
        // and keeps them (idle) for a while after.
        const reads = Array.from({ length: 20 }, () => store.instances.get("uhost-none"));
        assert.deepEqual(await Promise.all(reads), Array(20).fill(undefined));
        const open = await watcher.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        );
        assert.equal(open.rows[0].n, want);
      } finally {
        await watcher.end();
        await store.close();
      }
    }
  });
});
