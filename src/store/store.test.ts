import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPgDatabase, eachDialect, migrateBefore, pgSkip, sampleInstance } from "../../test/helpers.js";
import type { Db } from "./db.js";
import { MIGRATIONS, MIGRATION_LOCK, migrate } from "./migrations.js";
import { PgDb } from "./pg.js";
import { Store } from "./store.js";

/**
 * One conformance suite for every SQL dialect: the guarded updates the lifecycle relies on must
 * behave the same on SQLite and on PostgreSQL, under concurrency too.
 */
eachDialect("store conformance", 20, (open) => {
  const fresh = async () => {
    const db = await open();
    await migrate(db);
    await seed(db);
    return db;
  };

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

  it("cached instance and disk records follow every change, whichever handle or process made it", async () => {
    const db = await fresh();
    const reader = new Store(db);
    const writer = new Store(db); // another store on the same database: a replica's writes
    const now = 1_000_000;
    const rec = sampleInstance("i1", now);
    await writer.instances.insert(rec);
    const filter = { projectId: rec.projectId, offset: 0, limit: 10 };
    const first = (await reader.instances.describe(filter)).rows[0];
    assert.equal(first?.name, rec.name);
    assert.ok(Object.isFrozen(first), "a shared record cannot be changed by a caller");
    assert.equal((await reader.instances.describe(filter)).rows[0], first, "unchanged: the same record");
    // A guarded update, a raw one and one in a transaction: each is seen at once.
    await writer.instances.cas("i1", { now }, { name: "renamed" });
    assert.equal((await reader.instances.describe(filter)).rows[0]?.name, "renamed");
    await db.run("UPDATE instances SET tag = 'raw' WHERE id = 'i1'");
    assert.equal((await reader.instances.describe({ ...filter, ids: ["i1"] })).rows[0]?.tag, "raw");
    await writer.tx((r) => r.instances.cas("i1", { now }, { state: "Stopped" }));
    assert.equal((await reader.instances.describe(filter)).rows[0]?.state, "Stopped");
    const versions = await db.all("SELECT version FROM instances WHERE id = 'i1'");
    assert.equal(Number(versions[0]?.version), 3, "one version per change");

    const disk = {
      id: "d1",
      accountId: "a",
      projectId: rec.projectId,
      instanceId: "i1",
      zone: rec.zone,
      isBoot: false,
      diskType: "CLOUD_SSD",
      sizeGB: 20,
      drive: "vdb",
      state: "InUse" as const,
      name: "data",
      chargeType: "Postpay",
      keptFor: null,
      createdAt: now,
    };
    await writer.disks.insert(disk);
    await writer.disks.insert({ ...disk, id: "d0", isBoot: true, drive: "vda", sizeGB: 50, name: "boot" });
    await writer.disks.insert({ ...disk, id: "d9", drive: "vdc", state: "Deleted" });
    // A page and an id list read the disks by different statements: both are checked.
    const disksOf = async (how: "page" | "ids") =>
      (await reader.instances.describe(how === "page" ? filter : { ...filter, ids: ["i1"] })).disks.get(
        "i1",
      ) ?? [];
    for (const how of ["page", "ids"] as const) {
      const before = await disksOf(how);
      assert.deepEqual(
        before.map((d) => d.id),
        ["d0", "d1"],
        `${how}: the boot disk first, then by drive; a deleted one left out`,
      );
      assert.ok(Object.isFrozen(before[1]));
      assert.equal((await disksOf(how))[1], before[1], `${how}: unchanged: the same record`);
    }
    await writer.disks.resize("d1", 40);
    for (const how of ["page", "ids"] as const) assert.equal((await disksOf(how))[1]?.sizeGB, 40);
    await writer.tx((r) => r.disks.update({ id: "d1" }, { instanceId: null, state: "Available" }));
    for (const how of ["page", "ids"] as const)
      assert.deepEqual(
        (await disksOf(how)).map((d) => d.id),
        ["d0"],
        `${how}: detached: no longer the instance's`,
      );
  });

  it("concurrent claims never hand one task to two workers", async () => {
    const repo = new Store(await fresh()).tasks;
    await repo.insert(
      Array.from({ length: 200 }, (_, i) => ({
        id: `t${String(i).padStart(3, "0")}`,
        kind: "transition" as const,
        instanceId: "i",
        dueAt: 10,
        payload: {},
      })),
      1,
    );
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

  it("one detached disk attached by many at once: the guarded update lets exactly one through", async () => {
    const db = await fresh();
    const store = new Store(db);
    await store.disks.insert({
      id: "bs-1",
      accountId: "a",
      projectId: "p",
      instanceId: null,
      zone: "z",
      isBoot: false,
      diskType: "CLOUD_SSD",
      sizeGB: 100,
      drive: "",
      state: "Available",
      name: "d",
      chargeType: "Postpay",
      keptFor: "gone",
      createdAt: 0,
    });
    const wins = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.tx((r) =>
          r.disks.update(
            { id: "bs-1", states: ["Available"] },
            { instanceId: `i${i}`, drive: "/dev/vdb", state: "Attaching", keptFor: null },
          ),
        ),
      ),
    );
    assert.equal(wins.filter((n) => n === 1).length, 1);
    const d = await store.disks.get("bs-1");
    assert.deepEqual([d?.state, d?.keptFor, d?.drive], ["Attaching", null, "/dev/vdb"]);
    assert.equal(await store.disks.update({ id: "bs-1", smallerThan: 100 }, { sizeGB: 100 }), 0, "grow only");
  });

  it("monitoring samples: a tick written twice keeps the first; newest per instance; range; prune", async () => {
    const monitor = new Store(await fresh()).monitor;
    await monitor.insertMany([
      { instanceId: "i1", at: 10, data: { cpu: 1 } },
      { instanceId: "i1", at: 20, data: { cpu: 2 } },
      { instanceId: "i2", at: 15, data: { cpu: 3 } },
    ]);
    await monitor.insertMany([{ instanceId: "i1", at: 20, data: { cpu: 99 } }]);
    const latest = await monitor.latest(["i1", "i2", "i3"]);
    assert.deepEqual([...latest.values()].map((s) => [s.instanceId, s.at, s.data.cpu]).sort(), [
      ["i1", 20, 2],
      ["i2", 15, 3],
    ]);
    assert.deepEqual(
      (await monitor.range("i1", 0, 15)).map((s) => s.at),
      [10],
    );
    assert.equal(await monitor.pruneBefore(16), 2);
    assert.deepEqual(
      (await monitor.range("i1", 0, 100)).map((s) => s.at),
      [20],
    );
  });

  it("a recurring task with a fixed id is made once, however many replicas ensure it", async () => {
    const store = new Store(await fresh());
    await Promise.all(
      Array.from({ length: 8 }, () =>
        store.tx((r) =>
          r.tasks.ensure(
            { id: "task-fixed", kind: "monitor-sample", instanceId: "monitor", dueAt: 5, payload: {} },
            1,
          ),
        ),
      ),
    );
    assert.equal((await store.tasks.of("monitor")).length, 1);
  });

  it("migration 9: a recycled instance's kept data disks become detached disks it can get back", async () => {
    const db = await open();
    // The schema as it was before migration 9, with the rows it had then.
    await migrateBefore(db, 9);
    await seed(db);
    await db.run(
      `INSERT INTO instances (id, account_id, project_id, region, zone, name, state, instance_type, machine_type,
           gpu_type, gpu, cpu, memory, cpu_platform, charge_type, image_id, password_sealed, in_recycle, created_at, updated_at)
         VALUES ('i1', 'a', 'p', 'r', 'z', 'n', 'Stopped', 'UHost', 'G', '4090', 1, 16, 65536, 'x', 'Month', 'img', 's', 1, 0, 0)`,
    );
    for (const [id, inst, boot, state] of [
      ["bs-kept", "i1", 0, "Available"],
      ["bsm-boot", "i1", 1, "InUse"],
      ["bs-orphan", null, 0, "Available"],
    ] as const) {
      await db.run(
        "INSERT INTO disks (id, account_id, instance_id, zone, is_boot, disk_type, size_gb, drive, state, created_at) VALUES (?, 'a', ?, 'z', ?, 'CLOUD_SSD', 100, '/dev/vdb', ?, 0)",
        [id, inst, boot, state],
      );
    }
    await migrate(db);
    const disks = new Store(db).disks;
    const kept = await disks.get("bs-kept");
    assert.deepEqual(
      [kept?.instanceId, kept?.keptFor, kept?.drive, kept?.projectId, kept?.chargeType],
      [null, "i1", "", "p", "Month"],
    );
    assert.equal((await disks.get("bsm-boot"))?.instanceId, "i1", "attached disks stay");
    assert.equal(
      (await disks.get("bs-orphan"))?.projectId,
      "p",
      "a disk of nobody: the account's default project",
    );
    assert.deepEqual(
      (await disks.keptFor("i1")).map((d) => d.id),
      ["bs-kept"],
    );
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

describe("PostgreSQL: the events' commit trigger", pgSkip(), () => {
  /** Inserts `n` events as a transaction does, each with its placeholder seq. */
  const insertEvents = (tx: Db, n: number) =>
    tx.run(
      `INSERT INTO events (seq, at, account_id, project_id, resource_type, resource_id, kind, data) VALUES ${Array.from(
        { length: n },
        () => "(-nextval('events_pending_seq'), 0, 'a', 'p', 'instance', 'i', 'k', '{}')",
      ).join(", ")}`,
    );
  /** Commits ten events on the session's one connection; how many scans of the table their trigger made. */
  const scansOfTen = (db: PgDb) =>
    db.tx(async (tx) => {
      const scans = async () =>
        Number(
          (await tx.all("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'events'"))[0]
            ?.seq_scan ?? 0,
        );
      await insertEvents(tx, 10);
      const before = await scans();
      // The deferred trigger runs now instead of at COMMIT, so this transaction can count its scans.
      await tx.run("SET CONSTRAINTS ALL IMMEDIATE");
      return (await scans()) - before;
    });
  /**
   * A session that plans the trigger while events is analyzed empty (as after a bulk load, or an
   * autovacuum of a young table), then commits ten events more after 2,000.
   */
  async function scansAfterGrowth(migrateTo: (db: PgDb) => Promise<unknown>): Promise<number> {
    const db = new PgDb((await createPgDatabase()) as string, 1);
    try {
      await migrateTo(db);
      await db.run("ANALYZE events");
      await scansOfTen(db);
      await db.tx((tx) => insertEvents(tx, 2000));
      return await scansOfTen(db);
    } finally {
      await db.close();
    }
  }

  it("finds each row by index, whatever size the table had when the session planned it", async () => {
    assert.equal(
      await scansAfterGrowth((db) => migrateBefore(db, 51)),
      10,
      "before migration 51: a scan each",
    );
    assert.equal(await scansAfterGrowth(migrate), 0);
  });
});
