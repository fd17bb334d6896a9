import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createPgDatabase, pgSkip, sampleInstance } from "../../test/helpers.js";
import type { Db } from "./db.js";
import { SqliteDb } from "./db.js";
import { MIGRATIONS, MIGRATION_LOCK, migrate } from "./migrations.js";
import { PgDb } from "./pg.js";
import { Store } from "./store.js";

/**
 * One conformance suite for every SQL dialect: the guarded updates the lifecycle relies on must
 * behave the same on SQLite and on PostgreSQL, under concurrency too.
 */
function suite(name: string, open: () => Promise<Db | undefined>, opts: { skip?: string }) {
  describe(`store conformance: ${name}`, opts, () => {
    const dbs: Db[] = [];
    const fresh = async () => {
      const db = await open();
      if (!db) throw new Error("no database");
      dbs.push(db);
      await migrate(db);
      await seed(db);
      return db;
    };
    after(async () => {
      for (const db of dbs) await db.close();
    });

    it("migrations are idempotent", async () => {
      const db = await fresh();
      assert.deepEqual(await migrate(db), []);
      const rows = await db.all("SELECT id FROM schema_migrations ORDER BY id");
      assert.deepEqual(
        rows.map((r) => Number(r.id)),
        MIGRATIONS.map((m) => m.id).sort((x, y) => x - y),
      );
    });

    it("the store id is made once and then always read back", async () => {
      const db = await fresh();
      const meta = new Store(db).meta;
      const made = await Promise.all([meta.storeId(() => "store-a"), meta.storeId(() => "store-b")]);
      assert.equal(made[0], made[1], "two replicas starting together agree");
      assert.match(made[0], /^store-[ab]$/);
      assert.equal(await meta.storeId(() => "store-c"), made[0]);
    });

    it("a transaction that throws leaves nothing behind", async () => {
      const db = await fresh();
      await assert.rejects(
        db.tx(async (tx) => {
          await tx.run("UPDATE hosts SET cpu_used = 5 WHERE id = 'h1'");
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal(Number((await db.all("SELECT cpu_used FROM hosts WHERE id = 'h1'"))[0]?.cpu_used), 0);
    });

    it("the instance compare-and-swap checks state, recycle bin and lock", async () => {
      const repo = new Store(await fresh()).instances;
      const now = 1_000_000;
      await repo.insert(sampleInstance("i1", now));
      assert.equal(
        await repo.cas("i1", { states: ["Stopped"], inRecycle: false, now }, { state: "Starting" }),
        false,
      );
      assert.equal(
        await repo.cas(
          "i1",
          { states: ["Running"], inRecycle: false, now },
          { state: "Stopping", operation: "Stop", operationExpiresAt: now + 10 },
        ),
        true,
      );
      assert.equal(
        await repo.cas("i1", { states: ["Stopping"], now }, { state: "Stopped" }),
        false,
        "lock held",
      );
      assert.equal(
        await repo.cas("i1", { states: ["Stopping"], now: now + 11 }, { name: "x" }),
        true,
        "expired lock",
      );
      assert.equal(await repo.cas("i1", { lockedBy: "Start", now }, { operation: null }), false);
      assert.equal(
        await repo.cas("i1", { lockedBy: "Stop", now }, { operation: null, state: "Stopped" }),
        true,
      );
      const back = await repo.get("i1");
      assert.equal(back?.state, "Stopped");
      assert.equal(back?.operation, null);
      assert.equal(back?.name, "x");
    });

    it("concurrent claims never hand one task to two workers", async () => {
      const repo = new Store(await fresh()).tasks;
      for (let i = 0; i < 200; i++) {
        await repo.insert(
          {
            id: `t${String(i).padStart(3, "0")}`,
            kind: "transition",
            instanceId: "i",
            dueAt: 10,
            payload: {},
          },
          1,
        );
      }
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          (async () => {
            const mine: string[] = [];
            for (;;) {
              const got = await repo.claimDue(`w${w}`, 100, 60_000, 7);
              if (got.length === 0) return mine;
              mine.push(...got.map((t) => t.id));
            }
          })(),
        ),
      );
      const all = claims.flat();
      assert.equal(all.length, 200);
      assert.equal(new Set(all).size, 200);
      // An expired claim is taken over.
      assert.equal((await repo.claimDue("late", 100, 10, 1000)).length, 0);
      assert.equal((await repo.claimDue("late", 70_000, 10, 1000)).length, 200);
    });

    it("concurrent GPU takes and CPU reservations never over-allocate", async () => {
      const db = await fresh();
      const store = new Store(db);
      const takes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.tx((r) => r.hosts.takeGpu("h1", 0, `inst${i}`))),
      );
      assert.equal(takes.filter(Boolean).length, 1);
      const reserves = await Promise.all(
        Array.from({ length: 40 }, () => store.tx((r) => r.hosts.reserveCompute("h1", 4, 1024))),
      );
      assert.equal(reserves.filter(Boolean).length, 16, "64 CPU / 4 each");
      assert.equal(Number((await db.all("SELECT cpu_used FROM hosts WHERE id = 'h1'"))[0]?.cpu_used), 64);
    });
  });
}

async function seed(db: Db): Promise<void> {
  await new Store(db).tx((r) =>
    r.hosts.upsert({ id: "h1", zone: "z", gpuType: "4090", gpus: 8, cpu: 64, memoryMB: 65536 }),
  );
  await db.tx(async (tx) => {
    await tx.run(
      "INSERT INTO accounts (id, name, is_root, instance_quota, created_at) VALUES ('a', 'a', 0, 10, 0)",
    );
    await tx.run(
      "INSERT INTO projects (id, account_id, name, is_default, created_at) VALUES ('p', 'a', 'p', 1, 0)",
    );
  });
}

suite("SQLite", async () => new SqliteDb(join(mkdtempSync(join(tmpdir(), "ocs-store-")), "s.sqlite")), {});
suite(
  "PostgreSQL",
  async () => {
    const url = await createPgDatabase();
    return url ? new PgDb(url, 20) : undefined;
  },
  pgSkip(),
);

describe("PostgreSQL migrations under a lock", pgSkip(), () => {
  it("two replicas migrating at once do not race", async () => {
    const url = (await createPgDatabase()) as string;
    const a = new PgDb(url);
    const b = new PgDb(url);
    try {
      const [ra, rb] = await Promise.all([
        a.withLock(MIGRATION_LOCK, () => migrate(a)),
        b.withLock(MIGRATION_LOCK, () => migrate(b)),
      ]);
      assert.deepEqual(
        [...ra, ...rb].sort((x, y) => x - y),
        MIGRATIONS.map((m) => m.id).sort((x, y) => x - y),
      );
    } finally {
      await a.close();
      await b.close();
    }
  });
});
