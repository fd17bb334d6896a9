import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe } from "node:test";
import { dispatch } from "../src/api/gateway.js";
import type { Config } from "../src/config.js";
import { loadConfig } from "../src/config.js";
import { DEFAULT_CATALOG } from "../src/core/catalog/catalog.js";
import type { Catalog } from "../src/domain/catalog.js";
import type { InstanceRecord } from "../src/domain/records.js";
import { silentLogger } from "../src/log.js";
import type { ParamValue } from "../src/protocol/encode.js";
import { signedForm } from "../src/protocol/encode.js";
import { encodeJson } from "../src/protocol/json.js";
import type { OcsServer, ServerOptions } from "../src/server.js";
import { createServer } from "../src/server.js";
import type { Db } from "../src/store/db.js";
import { SqliteDb } from "../src/store/db.js";
import { MIGRATIONS } from "../src/store/migrations.js";
import { PgDb } from "../src/store/pg.js";

/**
 * The built-in catalog without its night discount (00:00-08:00 UTC+8), so the prices the tests
 * expect do not depend on the hour the suite runs at. The window has its own test (pricing.test.ts).
 */
export const TEST_CATALOG: Catalog = {
  ...DEFAULT_CATALOG,
  prices: { ...DEFAULT_CATALOG.prices, nightDiscount: undefined },
};

export const ROOT = { publicKey: "test-root-public-key", privateKey: "test-root-private-key" };

export interface TestServer {
  server: OcsServer;
  /** The server's URL; empty for an in-process server (no socket). */
  url: string;
  dataDir: string;
  /**
   * A signed form POST as the Python SDK sends it; returns the parsed envelope. Over HTTP, or
   * straight into the gateway's dispatch for an in-process server.
   */
  call(
    action: string,
    params?: Record<string, ParamValue>,
    keys?: { publicKey: string; privateKey: string },
  ): Promise<Record<string, unknown>>;
  /** Waits until the instance reaches `state` (polling Describe), or fails after `timeoutMs`. */
  waitState(id: string, state: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  describeOne(id: string): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

/**
 * A whole server in-process with its own temporary data dir: on a free port, or with `http: false`
 * no socket at all (calls go straight to the gateway's dispatch, where the wire is not the point).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: ServerOptions = {},
  how: { http?: boolean } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "ocs-test-"));
  // OCS_TEST_STORE=postgres runs any suite against the run's PostgreSQL server instead of SQLite.
  const pgUrl =
    process.env.OCS_TEST_STORE === "postgres" && !env.OCS_DATABASE_URL ? await createPgDatabase() : undefined;
  const config: Config = loadConfig(
    {
      ...(pgUrl ? { OCS_DATABASE_URL: pgUrl } : {}),
      OCS_PORT: "0",
      OCS_DATA_DIR: dataDir,
      OCS_ROOT_PUBLIC_KEY: ROOT.publicKey,
      OCS_ROOT_PRIVATE_KEY: ROOT.privateKey,
      OCS_SIM_LATENCY_MS: "0",
      ...env,
    },
    dataDir,
  );
  const server = await createServer(config, {
    log: silentLogger,
    worker: { pollMs: 20 },
    ...(env.OCS_CATALOG ? {} : { catalog: TEST_CATALOG }),
    ...opts,
  });
  const http = how.http ?? true;
  const url = http ? `http://127.0.0.1:${(await server.listen()).port}` : "";
  if (!http) await server.start();
  const call: TestServer["call"] = async (action, params = {}, keys = ROOT) => {
    const body = signedForm({ Action: action, ...params }, keys.publicKey, keys.privateKey);
    if (!http) {
      const r = await dispatch(
        server.gateway,
        randomUUID(),
        "POST",
        "",
        Buffer.from(body.toString()),
        "application/x-www-form-urlencoded",
      );
      // As a client reads it: what the gateway would write, parsed.
      return JSON.parse(Buffer.from(encodeJson(r.body)).toString("utf8")) as Record<string, unknown>;
    }
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const describeOne = async (id: string) => {
    const r = await call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: [id] });
    return (r.UHostSet as Array<Record<string, unknown>> | undefined)?.[0];
  };
  const waitState = async (id: string, state: string, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
      last = await describeOne(id);
      if (last?.State === state) return last;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`instance ${id} did not reach ${state}; last seen ${String(last?.State)}`);
  };
  return {
    server,
    url,
    dataDir,
    call,
    describeOne,
    waitState,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid Create request for the default catalog (1 × 4090, 16 CPU, 64 GB). */
export function createParams(extra: Record<string, ParamValue> = {}): Record<string, ParamValue> {
  return {
    Region: "cn-wlcb",
    Zone: "cn-wlcb-01",
    GpuType: "4090",
    GPU: 1,
    CPU: 16,
    Memory: 65536,
    MachineType: "G",
    CompShareImageId: "compshareImage-ubuntu2204",
    ChargeType: "Postpay",
    Disks: [{ IsBoot: true, Type: "CLOUD_SSD", Size: 50 }],
    ...extra,
  };
}

/** Creates an instance and waits for Running (`timeoutMs`: waitState's default unless given); returns its id. */
export async function createRunning(
  t: TestServer,
  extra: Record<string, ParamValue> = {},
  timeoutMs?: number,
): Promise<string> {
  const r = await t.call("CreateCompShareInstance", createParams(extra));
  if (r.RetCode !== 0) throw new Error(`create failed: ${JSON.stringify(r)}`);
  const id = (r.UHostIds as string[])[0] as string;
  await t.waitState(id, "Running", timeoutMs);
  return id;
}

/** Create's disks with a 100 GB data disk beside the 50 GB system disk. */
export const WITH_DATA_DISK: Record<string, ParamValue> = {
  Disks: [
    { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
    { IsBoot: false, Type: "CLOUD_SSD", Size: 100 },
  ],
};

/** The id of an instance's (first) data disk, from its Describe entry. */
export function dataDiskOf(inst: Record<string, unknown>): string {
  const disk = (inst.DiskSet as Array<{ DiskId: string; IsBoot: string }>).find((d) => d.IsBoot === "False");
  if (!disk) throw new Error(`no data disk in ${JSON.stringify(inst.DiskSet)}`);
  return disk.DiskId;
}

/** A fresh database on the run's PostgreSQL server (scripts/test.mjs starts it), or undefined. */
export async function createPgDatabase(): Promise<string | undefined> {
  const base = process.env.OCS_TEST_PG_URL;
  if (!base) return undefined;
  const { default: pg } = await import("pg");
  const name = `ocs_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client(base);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return base.replace(/\/[^/]*$/, `/${name}`);
}

/** Skip options for PostgreSQL suites: never skipped in CI. */
export function pgSkip(): { skip?: string } {
  if (process.env.OCS_TEST_PG_URL) return {};
  if (process.env.CI === "true")
    throw new Error("OCS_TEST_PG_URL missing in CI (scripts/test.mjs starts PostgreSQL)");
  return { skip: "PostgreSQL not available (see npm test output)" };
}

/**
 * Declares one suite per SQL dialect, `${title}: SQLite` and `${title}: PostgreSQL` (skipped where
 * there is none, never in CI). `open()` gives a new, empty database (a file of its own, or a fresh
 * PostgreSQL database with a pool of `pgPool`), closed when its suite ends.
 */
export function eachDialect(title: string, pgPool: number, body: (open: () => Promise<Db>) => void): void {
  const dialects: Array<[string, { skip?: string }, () => Promise<Db | undefined>]> = [
    ["SQLite", {}, async () => new SqliteDb(join(mkdtempSync(join(tmpdir(), "ocs-store-")), "s.sqlite"))],
    [
      "PostgreSQL",
      pgSkip(),
      async () => {
        const url = await createPgDatabase();
        return url ? new PgDb(url, pgPool) : undefined;
      },
    ],
  ];
  for (const [name, opts, make] of dialects)
    describe(`${title}: ${name}`, opts, () => {
      const dbs: Db[] = [];
      after(async () => {
        for (const db of dbs) await db.close();
      });
      body(async () => {
        const db = await make();
        if (!db) throw new Error("no database");
        dbs.push(db);
        return db;
      });
    });
}

/**
 * The invariants that must hold in a settled store: no lock left, no task left for a transition,
 * no GPU held twice or by an instance that does not hold compute, each running instance holding
 * exactly its GPUs, and every host's CPU usage equal to what its instances hold (an instance
 * started WithoutGpu holds the catalog's no-GPU spec: 2 CPU in every catalog the tests use).
 */
/**
 * The schema as it was before migration `id`: the earlier migrations applied and recorded, as an
 * older release left it (a migration's own test then runs `migrate` over rows of that time).
 */
export async function migrateBefore(db: Db, id: number): Promise<void> {
  await db.run(
    "CREATE TABLE IF NOT EXISTS schema_migrations (id BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
  );
  for (const m of MIGRATIONS.filter((x) => x.id < id)) {
    for (const stmt of Array.isArray(m.sql) ? m.sql : m.sql[db.dialect]) await db.run(stmt);
    await db.run("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, 0)", [m.id, m.name]);
  }
}

export async function assertSettled(db: Db): Promise<void> {
  const locked = await db.all("SELECT id, state, operation FROM instances WHERE operation IS NOT NULL");
  assert.deepEqual(locked, [], "no lock is stuck");
  assert.deepEqual(
    await db.all("SELECT id FROM tasks WHERE kind = 'transition'"),
    [],
    "no transition left behind",
  );
  const transitional = await db.all(
    "SELECT id, state FROM instances WHERE state NOT IN ('Running', 'Stopped', 'Install Fail')",
  );
  assert.deepEqual(transitional, [], "every instance settled");
  const gpus = await db.all(
    `SELECT i.id, i.gpu, i.holds_compute, i.without_gpu, COUNT(g.gpu_index) AS held
     FROM instances i LEFT JOIN host_gpus g ON g.instance_id = i.id GROUP BY i.id, i.gpu, i.holds_compute, i.without_gpu`,
  );
  for (const r of gpus) {
    const expected = Number(r.holds_compute) === 1 && Number(r.without_gpu) === 0 ? Number(r.gpu) : 0;
    assert.equal(
      Number(r.held),
      expected,
      `instance ${String(r.id)} holds ${String(r.held)} GPUs, expected ${expected}`,
    );
  }
  const orphans = await db.all(
    "SELECT host_id, gpu_index FROM host_gpus WHERE instance_id IS NOT NULL AND instance_id NOT IN (SELECT id FROM instances)",
  );
  assert.deepEqual(orphans, [], "no GPU leaked");
  const usage = await db.all(
    `SELECT h.id, h.cpu_used, COALESCE((SELECT SUM(CASE WHEN i.without_gpu = 1 THEN 2 ELSE i.cpu END) FROM instances i WHERE i.host_id = h.id AND i.holds_compute = 1), 0) AS expected
     FROM hosts h`,
  );
  for (const u of usage)
    assert.equal(Number(u.cpu_used), Number(u.expected), `host ${String(u.id)} CPU accounting`);
}

/** A complete instance row (Running 1 × 4090 on host h1), for tests and benchmarks that write the store directly. */
export function sampleInstance(
  id: string,
  now: number,
  overrides: Partial<InstanceRecord> = {},
): InstanceRecord {
  return {
    id,
    accountId: "a",
    projectId: "p",
    region: "cn-wlcb",
    zone: "cn-wlcb-01",
    name: id,
    tag: "Default",
    remark: "",
    state: "Running",
    operation: null,
    operationExpiresAt: null,
    instanceType: "UHost",
    machineType: "G",
    gpuType: "4090",
    gpu: 1,
    cpu: 16,
    memory: 65536,
    cpuPlatform: "Amd/Epyc2",
    withoutGpu: false,
    withoutGpuSpec: null,
    noGpuMode: null,
    hostId: "h1",
    holdsCompute: true,
    chargeType: "Postpay",
    imageId: "compshareImage-ubuntu2204",
    passwordSealed: "x",
    makingImage: false,
    inRecycle: false,
    recycledAt: null,
    releaseUdisk: false,
    createdAt: now,
    updatedAt: now,
    startedAt: now,
    stoppedAt: null,
    expireAt: null,
    schedulerStopAt: null,
    releaseAt: null,
    lastError: null,
    accessHost: null,
    accessPort: null,
    ports: { http: [], tcp: [] },
    publishedPorts: {},
    ...overrides,
  };
}
