import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Db } from "../src/store/db.js";
import { SqliteDb } from "../src/store/db.js";
import { PgDb } from "../src/store/pg.js";
import { assertSettled, createParams, createPgDatabase, pgSkip } from "./helpers.js";
import type { ServerProcess } from "./processes.js";
import { bigCatalogFile, eventually, startProcess } from "./processes.js";

type Obj = Record<string, unknown>;
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}

/** Every instance's state, read through the API in pages of 100. */
async function states(p: ServerProcess): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let offset = 0; ; offset += 100) {
    const r = await p.call("DescribeCompShareInstance", { Region: "cn-wlcb", Limit: 100, Offset: offset });
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    for (const u of r.UHostSet as Obj[]) out.set(String(u.UHostId), String(u.State));
    if (offset + 100 >= (r.TotalCount as number)) return out;
  }
}

async function allIn(p: ServerProcess, ids: string[], state: string, timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      const s = await states(p);
      return ids.every((id) => s.get(id) === state);
    },
    timeoutMs,
    `${ids.length} instances to reach ${state}`,
  );
}

async function driverCalls(...ps: ServerProcess[]): Promise<Record<string, number>> {
  const sum: Record<string, number> = {};
  for (const p of ps) {
    const s = await p.call("EmulatorStatus");
    for (const [k, v] of Object.entries(s.DriverCalls as Record<string, number>)) sum[k] = (sum[k] ?? 0) + v;
  }
  return sum;
}

describe("two replicas on one PostgreSQL", { ...pgSkip(), timeout: 300_000 }, () => {
  it("one lock across replicas; every transition and scheduled stop runs exactly once", async () => {
    const url = (await createPgDatabase()) as string;
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-replicas-"));
    const env = {
      OCS_DATABASE_URL: url,
      OCS_DATA_DIR: dataDir,
      OCS_CATALOG: bigCatalogFile(130),
      OCS_SIM_LATENCY_MS: "0",
    };
    const [a, b] = await Promise.all([startProcess(env), startProcess(env)]);
    const ps = [a, b];
    try {
      // 100 concurrent mutating calls on one instance, spread over both replicas → exactly one accepted.
      const first = await a.call("CreateCompShareInstance", createParams());
      const one = (first.UHostIds as string[])[0] as string;
      await allIn(b, [one], "Running", 10_000);
      for (const p of ps) await p.call("EmulatorSetLatency", { Milliseconds: 300 });
      const stops = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (ps[i % 2] as ServerProcess).call("StopCompShareInstance", { ...Z, UHostId: one }),
        ),
      );
      assert.equal(stops.filter((r) => r.RetCode === 0).length, 1);
      assert.ok(
        stops.every((r) => r.RetCode === 0 || r.RetCode === 8040 || r.RetCode === 8041),
        JSON.stringify(stops.find((r) => r.RetCode !== 0 && r.RetCode !== 8040 && r.RetCode !== 8041)),
      );
      await allIn(a, [one], "Stopped", 10_000);
      for (const p of ps) await p.call("EmulatorSetLatency", { Milliseconds: 0 });

      // 1,000 instances through create → stop → start on both replicas: each driver call exactly once.
      const created = await pool(Array.from({ length: 1000 }), 16, async (_, i) => {
        const r = await (ps[i % 2] as ServerProcess).call("CreateCompShareInstance", createParams());
        assert.equal(r.RetCode, 0, JSON.stringify(r));
        return (r.UHostIds as string[])[0] as string;
      });
      await allIn(a, created, "Running", 120_000);
      await pool(created, 16, async (id, i) => {
        const r = await (ps[i % 2] as ServerProcess).call("StopCompShareInstance", { ...Z, UHostId: id });
        assert.equal(r.RetCode, 0, JSON.stringify(r));
      });
      await allIn(b, created, "Stopped", 120_000);
      await pool(created, 16, async (id, i) => {
        const r = await (ps[(i + 1) % 2] as ServerProcess).call("StartCompShareInstance", {
          ...Z,
          UHostId: id,
        });
        assert.equal(r.RetCode, 0, JSON.stringify(r));
      });
      await allIn(a, created, "Running", 120_000);
      let calls = await driverCalls(a, b);
      assert.deepEqual([calls.create, calls.start, calls.stop], [1001, 2001, 1001]);

      // 500 scheduled stops due at the same moment, clocks advanced on both → each fired exactly once.
      const scheduled = created.slice(0, 500);
      const now = Math.floor(Date.now() / 1000);
      await pool(scheduled, 16, async (id, i) => {
        const r = await (ps[i % 2] as ServerProcess).call("UpdateCompShareStopScheduler", {
          Region: "cn-wlcb",
          UHostId: id,
          StopTime: now + 900,
        });
        assert.equal(r.RetCode, 0, JSON.stringify(r));
      });
      await Promise.all(ps.map((p) => p.call("EmulatorAdvanceClock", { Seconds: 1000 })));
      await allIn(a, scheduled, "Stopped", 120_000);
      calls = await driverCalls(a, b);
      assert.equal(calls.stop, 1501);
      const db = new PgDb(url);
      try {
        await assertSettled(db);
        assert.deepEqual(await db.all("SELECT id FROM tasks WHERE kind = 'scheduled-stop'"), []);
      } finally {
        await db.close();
      }
    } finally {
      await Promise.all(ps.map((p) => p.kill("SIGTERM")));
    }
  });

  it("SIGTERM: a replica finishes or hands back its work and exits 0", async () => {
    const url = (await createPgDatabase()) as string;
    const env = {
      OCS_DATABASE_URL: url,
      OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-term-")),
      OCS_CATALOG: bigCatalogFile(10),
      OCS_SIM_LATENCY_MS: "200",
    };
    const a = await startProcess(env);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(((await a.call("CreateCompShareInstance", createParams())).UHostIds as string[])[0] as string);
    assert.equal(await a.kill("SIGTERM"), 0);
    const b = await startProcess({ ...env, OCS_SIM_LATENCY_MS: "0" });
    try {
      await allIn(b, ids, "Running", 20_000);
      const db = new PgDb(url);
      try {
        await assertSettled(db);
      } finally {
        await db.close();
      }
    } finally {
      await b.kill();
    }
  });
});

async function crashScenario(env: Record<string, string>, openDb: () => Db): Promise<void> {
  const p = await startProcess({ ...env, OCS_SIM_LATENCY_MS: "0" });
  let ids: string[];
  try {
    ids = await pool(Array.from({ length: 200 }), 16, async () => {
      const r = await p.call("CreateCompShareInstance", createParams());
      assert.equal(r.RetCode, 0, JSON.stringify(r));
      return (r.UHostIds as string[])[0] as string;
    });
    await allIn(p, ids, "Running", 60_000);
    await p.call("EmulatorSetLatency", { Milliseconds: 1500 });
    // ~200 transitions accepted and in flight (stops, and reboots on a quarter), then kill -9.
    await pool(ids, 32, async (id, i) => {
      const r = await p.call(i % 4 === 0 ? "RebootCompShareInstance" : "StopCompShareInstance", {
        ...Z,
        UHostId: id,
      });
      assert.equal(r.RetCode, 0, JSON.stringify(r));
    });
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await p.kill("SIGKILL");
  }

  const again = await startProcess({ ...env, OCS_SIM_LATENCY_MS: "0" });
  try {
    const stopped = ids.filter((_, i) => i % 4 !== 0);
    const rebooted = ids.filter((_, i) => i % 4 === 0);
    await allIn(again, stopped, "Stopped", 60_000);
    await allIn(again, rebooted, "Running", 60_000);
    const db = openDb();
    try {
      await assertSettled(db);
    } finally {
      await db.close();
    }
    // And the store still works: stopped instances start again.
    await pool(stopped.slice(0, 20), 8, async (id) =>
      assert.equal((await again.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0),
    );
    await allIn(again, stopped.slice(0, 20), "Running", 30_000);
  } finally {
    await again.kill();
  }
}

describe("kill -9 with ~200 transitions in flight", { timeout: 300_000 }, () => {
  it("SQLite: every instance settles, no GPU held twice or leaked, no lock stuck, no task lost", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-crash-"));
    await crashScenario(
      { OCS_DATA_DIR: dataDir, OCS_CATALOG: bigCatalogFile(30) },
      () => new SqliteDb(join(dataDir, "ocs.sqlite")),
    );
  });

  it("PostgreSQL: the same", pgSkip(), async () => {
    const url = (await createPgDatabase()) as string;
    await crashScenario(
      {
        OCS_DATABASE_URL: url,
        OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-crash-")),
        OCS_CATALOG: bigCatalogFile(30),
        OCS_WORKER_CLAIM_SECONDS: "2",
      },
      () => new PgDb(url),
    );
  });
});
