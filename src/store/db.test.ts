import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { type Db, SqliteDb } from "./db.js";

const fileDb = () => {
  const path = join(mkdtempSync(join(tmpdir(), "ocs-db-")), "d.sqlite");
  return { path, db: new SqliteDb(path) };
};

async function withTable(db: SqliteDb): Promise<void> {
  await db.run("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
}

const count = async (db: SqliteDb, where = "1 = 1") =>
  Number((await db.all(`SELECT COUNT(*) AS n FROM t WHERE ${where}`))[0]?.n);

describe("SQLite group commit", () => {
  it("writes queued together commit together; one that fails is rolled back alone", async () => {
    const { path, db } = fileDb();
    await withTable(db);
    const writes = Array.from({ length: 20 }, (_, i) =>
      db.tx(async (tx) => {
        await tx.run("INSERT INTO t (k, v) VALUES (?, ?)", [`k${i}`, i]);
        // An await between statements, then a failure: only this write's statements go.
        await new Promise((r) => setImmediate(r));
        await tx.run("UPDATE t SET v = v + 100 WHERE k = ?", [`k${i}`]);
        if (i % 5 === 3) throw new Error(`write ${i} fails`);
        return i;
      }),
    );
    const results = await Promise.allSettled(writes);
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
    assert.deepEqual(failed, [3, 8, 13, 18]);
    // What a resolved write did is durable: another connection sees exactly the kept writes.
    const other = new Database(path, { readonly: true });
    try {
      const rows = other.prepare("SELECT k, v FROM t ORDER BY v").all() as Array<{ k: string; v: number }>;
      assert.equal(rows.length, 16);
      assert.ok(rows.every((r) => r.v >= 100 && ![3, 8, 13, 18].includes(r.v - 100)));
    } finally {
      other.close();
    }
    await db.close();
  });

  it("a read sees every write queued before it, and none that is rolled back later", async () => {
    for (const { db } of [fileDb(), { db: new SqliteDb(":memory:") }]) {
      await withTable(db);
      const before = Array.from({ length: 50 }, (_, i) =>
        db.run("INSERT INTO t (k, v) VALUES (?, 1)", [`a${i}`]),
      );
      const read = count(db);
      const doomed = db.tx(async (tx) => {
        await tx.run("INSERT INTO t (k, v) VALUES ('z', 2)");
        await new Promise((r) => setImmediate(r));
        throw new Error("rolled back");
      });
      const readZ = count(db, "v = 2");
      await Promise.all(before);
      await assert.rejects(doomed, /rolled back/);
      assert.equal(await read, 50);
      assert.equal(await readZ, 0, "a read never sees a write that is rolled back");
      assert.equal(await count(db), 50);
      await db.close();
    }
  });

  it("a failure of the queue's own statements fails its group's writes and leaves later writes working", async () => {
    const { db } = fileDb();
    await withTable(db);
    const kept = db.run("INSERT INTO t (k, v) VALUES ('a', 1)");
    // Releasing the queue's savepoint inside the body makes its ROLLBACK TO fail when the body throws.
    const broken = db.tx(async (tx) => {
      await tx.run("INSERT INTO t (k, v) VALUES ('b', 1)");
      await tx.run("RELEASE w");
      throw new Error("body fails");
    });
    const results = await Promise.allSettled([kept, broken]);
    assert.equal(results[1]?.status, "rejected");
    // Nothing hangs, the connection is outside a transaction, and what follows commits.
    await db.run("INSERT INTO t (k, v) VALUES ('c', 1)");
    assert.equal(await count(db, "k = 'c'"), 1);
    assert.equal(await count(db, "k = 'b'"), 0, "the broken group's writes are gone");
    await db.close();
  });

  it("leases (durable: false) commit in groups of their own without waiting for the disk", async () => {
    const { path, db } = fileDb();
    await withTable(db);
    await db.run("INSERT INTO t (k, v) VALUES ('a', 0)");
    // The writer's level as a write's own commit will use it (2 FULL: waits for the disk; 1 NORMAL).
    const level = async (tx: Db) => Number((await tx.all("PRAGMA synchronous"))[0]?.synchronous);
    const bump = "UPDATE t SET v = v + 1 WHERE k = 'a'";
    const bumped = async (tx: Db) => {
      await tx.run(bump);
      return level(tx);
    };
    // Queued in one tick: two leases (one group), a durable write (a group of its own, which may
    // take leases queued behind it: they then wait for the disk with it), a lease.
    const seen = [
      db.tx(level, { durable: false }),
      db.tx(bumped, { durable: false }),
      db.tx(bumped),
      db.run(bump, [], { durable: false }).then(() => -1),
    ];
    assert.deepEqual(await Promise.all(seen), [1, 1, 2, -1]);
    // Committed all the same (another connection sees them), and a durable write after them
    // waits for the disk again.
    const other = new Database(path, { readonly: true });
    try {
      assert.equal((other.prepare("SELECT v FROM t WHERE k = 'a'").get() as { v: number }).v, 3);
    } finally {
      other.close();
    }
    assert.equal(await db.tx(level), 2);
    await db.close();
  });

  it("a lease whose level cannot be set is refused, not left pending", { timeout: 5000 }, async () => {
    const { db } = fileDb();
    await withTable(db);
    await db.close();
    // Setting the level throws on a closed connection, before the group's own error handling.
    await assert.rejects(db.run("INSERT INTO t (k, v) VALUES ('a', 1)", [], { durable: false }), /not open/);
    await assert.rejects(db.run("INSERT INTO t (k, v) VALUES ('b', 1)"), /not open/);
  });
});
