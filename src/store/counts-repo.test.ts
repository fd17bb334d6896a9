import assert from "node:assert/strict";
import { it } from "node:test";
import { eachDialect, sampleInstance } from "../../test/helpers.js";
import type { InstanceRecord } from "../domain/records.js";
import { SEEK_FROM } from "./counts-repo.js";
import type { Db } from "./db.js";
import { migrate } from "./migrations.js";
import { Store } from "./store.js";

/** A deterministic pseudo-random sequence (the same instances on every run and dialect). */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const T0 = Date.UTC(2026, 0, 1);

async function insertAll(store: Store, recs: InstanceRecord[]): Promise<void> {
  await store.tx(async (r) => {
    for (const rec of recs) await r.instances.insert(rec);
  });
}

/**
 * The instance counts on every dialect: kept exact by the store's triggers through every kind of
 * change, and a deep page found through them is the page a plain OFFSET gives.
 */
eachDialect("instance counts", 20, (open) => {
  const fresh = async () => {
    const db = await open();
    await migrate(db);
    await db.tx(async (tx) => {
      await tx.run(
        "INSERT INTO accounts (id, name, is_root, instance_quota, created_at) VALUES ('a', 'a', 0, 10, 0), ('b', 'b', 0, 10, 0)",
      );
      await tx.run(
        "INSERT INTO hosts (id, zone, gpu_type, gpu_count, cpu_total, memory_total) VALUES ('h1', 'z1', '4090', 8, 64, 65536)",
      );
      await tx.run(
        "INSERT INTO projects (id, account_id, name, is_default, created_at) VALUES ('p', 'a', 'p', 1, 0), ('q', 'a', 'q', 0, 0), ('r', 'b', 'r', 1, 0)",
      );
    });
    return new Store(db);
  };

  /** What the counts must say, counted the slow way. */
  const counted = async (db: Db, where: string, params: Array<string | number> = []) =>
    Number((await db.all(`SELECT COUNT(*) AS n FROM instances WHERE ${where}`, params))[0]?.n);

  it("follow every insert, move to and from the recycle bin, delete, and roll back with their transaction", async () => {
    const store = await fresh();
    const inst = (id: string, over: Parameters<typeof sampleInstance>[2] = {}) =>
      sampleInstance(id, T0, { accountId: "a", projectId: "p", ...over });
    await insertAll(store, [
      inst("i1"),
      inst("i2", { zone: "z2" }),
      inst("i3", { projectId: "q" }),
      inst("i4", { accountId: "b", projectId: "r" }),
    ]);
    const c = store.counts;
    assert.equal(await c.total({ projectId: "p", inRecycle: false }), 2);
    assert.equal(await c.total({ projectId: "p", inRecycle: false, zone: "z2" }), 1);
    assert.equal(await c.activeOfAccount("a"), 3, "both projects of the account");
    assert.equal(await c.activeOfAccount("b", { lock: true }), 1);

    await store.tx((r) => r.instances.cas("i1", { now: T0 }, { inRecycle: true }));
    assert.equal(await c.total({ projectId: "p", inRecycle: false }), 1);
    assert.equal(await c.total({ projectId: "p", inRecycle: true }), 1);
    assert.equal(await c.activeOfAccount("a"), 2);
    await store.tx((r) => r.instances.cas("i1", { now: T0 }, { inRecycle: false }));
    assert.equal(await c.total({ projectId: "p", inRecycle: true }), 0);
    // A change that does not move the instance leaves the counts alone.
    await store.tx((r) => r.instances.cas("i1", { now: T0 }, { state: "Stopped", name: "n" }));
    assert.equal(await c.total({ projectId: "p", inRecycle: false }), 2);

    await assert.rejects(
      store.tx(async (r) => {
        await r.instances.insert(inst("i5"));
        await r.instances.remove("i2");
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(await c.total({ projectId: "p", inRecycle: false }), 2, "rolled back with the rows");
    await store.instances.remove("i2");
    assert.equal(await c.total({ projectId: "p", inRecycle: false, zone: "z2" }), 0);
    await store.instances.removeAll();
    assert.equal(await c.activeOfAccount("a"), 0);
    assert.equal(await store.counts.repair(), 0, "nothing to repair: the counts were exact throughout");
  });

  it("a deep page found through the counts is exactly the page OFFSET gives", async () => {
    const store = await fresh();
    const db = store.db;
    const next = rng(7);
    // Spread over every level: bursts within one millisecond (ties broken by id), seconds,
    // hours, weeks and years apart; two zones; some in the recycle bin.
    let at = T0;
    const recs = [];
    for (let i = 0; i < 3000; i++) {
      const r = next();
      at -= r < 0.3 ? 0 : r < 0.6 ? Math.floor(next() * 2000) : r < 0.9 ? Math.floor(next() * 4e6) : 4e9;
      recs.push(
        sampleInstance(`i${String(Math.floor(next() * 1e6)).padStart(6, "0")}-${i}`, at, {
          accountId: "a",
          projectId: "p",
          zone: next() < 0.7 ? "z1" : "z2",
          inRecycle: next() < 0.1,
        }),
      );
    }
    await insertAll(store, recs);
    for (const zone of [undefined, "z1"]) {
      const where = `project_id = 'p' AND in_recycle = 0${zone ? ` AND zone = '${zone}'` : ""}`;
      const total = await counted(db, where);
      const r = await store.instances.describe({ projectId: "p", zone, offset: 0, limit: 1 });
      assert.equal(r.total, total);
      for (const offset of [SEEK_FROM - 1, SEEK_FROM, SEEK_FROM + 1, 1500, 1777, total - 100, total - 1]) {
        const got = await store.instances.describe({ projectId: "p", zone, offset, limit: 100 });
        const want = await db.all(
          `SELECT id FROM instances WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT 100 OFFSET ?`,
          [offset],
        );
        assert.deepEqual(
          got.rows.map((x) => x.id),
          want.map((x) => String(x.id)),
          `zone ${zone ?? "any"}, offset ${offset}`,
        );
      }
    }
  });

  it("repair finds counts that differ from the instances and rebuilds them", async () => {
    const store = await fresh();
    await insertAll(
      store,
      Array.from({ length: 50 }, (_, i) =>
        sampleInstance(`i${i}`, T0 - i * 5000, {
          accountId: "a",
          projectId: "p",
          zone: i % 2 ? "z1" : "z2",
        }),
      ),
    );
    // A hand-edited store: counts lost and counts wrong.
    await store.db.run("DELETE FROM instance_counts WHERE zone = 'z1'");
    await store.db.run("UPDATE instance_counts SET n = n + 3 WHERE zone = 'z2' AND level = 62");
    assert.ok((await store.counts.repair()) > 0);
    assert.equal(await store.counts.total({ projectId: "p", inRecycle: false }), 50);
    assert.equal(await store.counts.total({ projectId: "p", inRecycle: false, zone: "z1" }), 25);
    assert.equal(await store.counts.repair(), 0);
  });

  it("stay exact under concurrent creates, moves to the bin and back, and deletes", async () => {
    const store = await fresh();
    await insertAll(
      store,
      Array.from({ length: 40 }, (_, i) => sampleInstance(`old${i}`, T0, { accountId: "a", projectId: "p" })),
    );
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) =>
        store.tx((r) =>
          r.instances.insert(sampleInstance(`new${i}`, T0, { accountId: "a", projectId: "p" })),
        ),
      ),
      ...Array.from({ length: 20 }, (_, i) =>
        store.tx(async (r) => {
          await r.instances.cas(`old${i}`, { now: T0 }, { inRecycle: true });
          await r.instances.cas(`old${i + 20}`, { now: T0 }, { inRecycle: true });
        }),
      ),
      ...Array.from({ length: 10 }, (_, i) =>
        store.tx(async (r) => {
          await r.instances.cas(`old${i}`, { now: T0 }, { inRecycle: false });
          await r.instances.remove(`old${i + 30}`);
        }),
      ),
    ]);
    const db = store.db;
    for (const inRecycle of [false, true]) {
      assert.equal(
        await store.counts.total({ projectId: "p", inRecycle }),
        await counted(db, "project_id = 'p' AND in_recycle = ?", [inRecycle ? 1 : 0]),
      );
    }
    assert.equal(await store.counts.repair(), 0);
  });
});
