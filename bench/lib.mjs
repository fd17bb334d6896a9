// Shared pieces of the benchmarks: seeding the store directly, server processes, the bare
// node:http baseline, and the load generator (autocannon, 32 connections unless told otherwise).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { loadConfig } from "../dist/src/config.js";
import { DEFAULT_CATALOG } from "../dist/src/core/catalog/catalog.js";
import { SecretBox, loadOrCreateMasterKey } from "../dist/src/core/secrets.js";
import { silentLogger } from "../dist/src/log.js";
import { signedForm } from "../dist/src/protocol/encode.js";
import { createServer } from "../dist/src/server.js";
import { ROOT, createParams, sampleInstance } from "../dist/test/helpers.js";
import { startProcess } from "../dist/test/processes.js";

export { ROOT, startProcess };

/** The account the scale benchmarks' instances belong to (root's quota is a million; this one's is more). */
export const BENCH_ACCOUNT = {
  name: "bench",
  keys: { publicKey: "bench-public-key", privateKey: "bench-private-key" },
  quota: 2_000_000,
};

/** The one-GPU Create every benchmark makes. */
export const CREATE = {
  Zone: "cn-wlcb-01",
  GpuType: "4090",
  GPU: 1,
  CPU: 16,
  Memory: 65536,
  CompShareImageId: "compshareImage-ubuntu2204",
  ChargeType: "Dynamic",
};

const made = [];
// The seeded stores are large (about 0.6 GB per million instances): none outlives the run.
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
/** What an interrupted run must still stop (servers, the throwaway PostgreSQL) before it exits. */
const stoppers = new Set();

/** Registers `stop` to run if the run is interrupted; returns a function that unregisters it. */
export function onInterrupt(stop) {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await Promise.allSettled([...stoppers].map((stop) => stop()));
    process.exit(130);
  });
}

export function tmp(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `ocs-bench-${prefix}-`));
  made.push(dir);
  return dir;
}

/** A catalog file with `hosts` 8-GPU 4090 hosts in cn-wlcb-01. */
export function catalogFile(dir, hosts) {
  const list = Array.from({ length: hosts }, (_, i) => ({
    id: `b-${i}`,
    zone: "cn-wlcb-01",
    gpuType: "4090",
    gpus: 8,
    cpu: 128,
    memoryMB: 524288,
  }));
  const path = join(dir, "catalog.json");
  writeFileSync(path, JSON.stringify({ ...DEFAULT_CATALOG, hosts: list }));
  return path;
}

/** A record as a row: snake_case columns, booleans as 0/1 (the store's portable types). */
function asRow(rec) {
  const row = {};
  for (const [k, v] of Object.entries(rec))
    row[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] =
      typeof v === "boolean" ? (v ? 1 : 0) : v !== null && typeof v === "object" ? JSON.stringify(v) : v;
  return row;
}

/** Multi-row INSERTs of plain rows (at most 16k bound values per statement, within both dialects' limits). */
async function insertRows(tx, table, rows) {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const per = Math.max(1, Math.floor(16_000 / cols.length));
  const one = `(${cols.map(() => "?").join(", ")})`;
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    await tx.run(
      `INSERT INTO ${table} (${cols.join(", ")}) VALUES ${chunk.map(() => one).join(", ")}`,
      chunk.flatMap((r) => cols.map((c) => r[c])),
    );
  }
}

/**
 * Seeds `n` instances straight into the store (not through n API calls), in bulk statements that
 * need no repository method, so the same harness seeds any build (bench/RESULTS.md's "before"
 * column ran it against main): Stopped and holding nothing, or with a scheduled stop due at
 * `stopAt` (Running, GPUs not held: the scheduler path releases what the instance holds, which is
 * nothing), or `running` (for the monitoring collector). Every instance has its own sealed password, as through Create. The instances belong
 * to the account `opts.account` (made with a quota above `n`) or to root; `opts.env` names the
 * store (OCS_DATABASE_URL for PostgreSQL).
 */
export async function seed(dataDir, catalogPath, n, opts = {}) {
  const config = loadConfig(
    {
      OCS_DATA_DIR: dataDir,
      OCS_CATALOG: catalogPath,
      OCS_ROOT_PUBLIC_KEY: ROOT.publicKey,
      OCS_ROOT_PRIVATE_KEY: ROOT.privateKey,
      ...opts.env,
    },
    dataDir,
  );
  const server = await createServer(config, { log: silentLogger });
  const { accounts } = server.services;
  let owner = (await accounts.listAccounts()).find((a) => a.isRoot);
  if (opts.account) {
    owner =
      (await accounts.accountByName(opts.account.name)) ??
      (
        await accounts.createAccount(opts.account.name, {
          keyPair: opts.account.keys,
          instanceQuota: opts.account.quota,
          gpuQuota: opts.account.quota,
        })
      ).account;
  }
  const project = (await accounts.projectsOf(owner.id))[0];
  const box = new SecretBox(loadOrCreateMasterKey(dataDir, config.masterKey));
  const now = Date.now();
  const id = (i) => `uhost-b${String(i).padStart(7, "0")}`;
  const batch = 5000;
  for (let start = 0; start < n; start += batch) {
    const ids = Array.from({ length: Math.min(batch, n - start) }, (_, k) => start + k);
    await server.internals.db.tx(async (tx) => {
      await insertRows(
        tx,
        "instances",
        ids.map((i) =>
          asRow(
            sampleInstance(id(i), now, {
              accountId: owner.id,
              projectId: project.id,
              name: `bench-${i}`,
              state: opts.stopAt || opts.running ? "Running" : "Stopped",
              hostId: "b-0",
              holdsCompute: false,
              chargeType: "Dynamic",
              passwordSealed: box.seal(`Bench-Passw0rd-${i}`),
              createdAt: now - i,
              schedulerStopAt: opts.stopAt ?? null,
            }),
          ),
        ),
      );
      await insertRows(
        tx,
        "disks",
        ids
          .map((i) =>
            asRow({
              id: `bsm-b${i}`,
              accountId: owner.id,
              instanceId: id(i),
              zone: "cn-wlcb-01",
              isBoot: true,
              diskType: "CLOUD_SSD",
              sizeGB: 50,
              drive: "/dev/vda",
              state: "InUse",
              projectId: project.id,
              name: "",
              chargeType: "Dynamic",
              keptFor: null,
              createdAt: now,
            }),
          )
          .map(({ size_g_b, ...r }) => ({ ...r, size_gb: size_g_b })),
      );
      if (opts.stopAt) {
        await insertRows(
          tx,
          "tasks",
          ids.map((i) => ({
            id: `task-b${i}`,
            kind: "scheduled-stop",
            instance_id: id(i),
            due_at: opts.stopAt,
            attempts: 0,
            payload: "{}",
            created_at: now,
          })),
        );
      }
    });
  }
  // As after any bulk load: without statistics PostgreSQL plans as if the tables were nearly empty
  // until autovacuum first analyzes them (up to a minute later), and a run then measures plan luck.
  if (server.internals.db.dialect === "postgres") await server.internals.db.run("ANALYZE");
  await server.close();
}

/**
 * The stores every benchmark runs on: SQLite always, PostgreSQL (a throwaway server started as the
 * tests start theirs, scripts/postgres.mjs) unless OCS_BENCH_STORE=sqlite. OCS_BENCH_STORE=postgres
 * runs PostgreSQL only. `fresh()` gives the environment of a new, empty store.
 */
export async function stores(which = process.env.OCS_BENCH_STORE ?? "both") {
  const out = [];
  if (which !== "postgres") out.push({ name: "sqlite", fresh: async () => ({}), stop: async () => {} });
  if (which !== "sqlite") {
    const { startPostgres } = await import("../scripts/postgres.mjs");
    const server = await startPostgres();
    const { default: pg } = await import("pg");
    let n = 0;
    out.push({
      name: "postgres",
      async fresh() {
        const name = `bench_${process.pid}_${n++}`;
        const client = new pg.Client(server.url);
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name}`);
        } finally {
          await client.end();
        }
        return { OCS_DATABASE_URL: server.url.replace(/\/[^/]*$/, `/${name}`) };
      },
      cpuMs: postgresCpuMs,
      stop: () => {
        forget();
        return server.stop();
      },
    });
    const forget = onInterrupt(() => server.stop());
  }
  return out;
}

/** Runs `fn` with the environment of a fresh store: SQLite, or PostgreSQL with OCS_BENCH_STORE=postgres. */
export async function withStore(fn) {
  const all = await stores(process.env.OCS_BENCH_STORE === "postgres" ? "postgres" : "sqlite");
  try {
    return await fn(await all[0].fresh());
  } finally {
    for (const s of all) await s.stop();
  }
}

/** A signed form body for autocannon (no nonce in the scheme, so one body can be replayed). */
export function body(action, params = {}, keys = ROOT) {
  return signedForm(
    { Action: action, Region: "cn-wlcb", ...params },
    keys.publicKey,
    keys.privateKey,
  ).toString();
}

/**
 * Counts rows of a running server's store from outside it (a read-only SQLite handle beside the
 * server's, or a PostgreSQL client): the scheduler benchmark watches the stops land this way.
 */
export async function storeCounter(dataDir, env) {
  if (env.OCS_DATABASE_URL) {
    const { default: pg } = await import("pg");
    const client = new pg.Client(env.OCS_DATABASE_URL);
    await client.connect();
    return {
      count: async (sql) => Number((await client.query(sql)).rows[0].n),
      close: () => client.end(),
    };
  }
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(join(dataDir, "ocs.sqlite"), { readonly: true });
  return { count: async (sql) => Number(db.prepare(sql).get().n), close: async () => db.close() };
}

/** A bare node:http server answering a pre-serialized body: the ceiling for any JSON API here. */
export async function baseline(payload) {
  const dir = tmp("baseline");
  const file = join(dir, "body.json");
  writeFileSync(file, payload);
  const code = `
    const http = require("node:http"); const fs = require("node:fs");
    const body = fs.readFileSync(${JSON.stringify(file)});
    const s = http.createServer((req, res) => { req.resume(); req.on("end", () => {
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": body.length }); res.end(body); }); });
    s.keepAliveTimeout = 65000;
    s.listen(0, "127.0.0.1", () => console.log("port " + s.address().port));`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise((resolve) =>
    child.stdout.on("data", (d) => resolve(/port (\d+)/.exec(String(d))[1])),
  );
  const forget = onInterrupt(async () => child.kill());
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    kill: () => {
      forget();
      child.kill();
    },
  };
}

/**
 * Runs autocannon; returns req/s and latency percentiles in ms. Every answer must be HTTP 200 with
 * RetCode 0 (a refused call is fast and would flatter the figures).
 */
export async function load(url, requestBody, opts = {}) {
  let refused = 0;
  let example = "";
  const r = await autocannon({
    url,
    connections: opts.connections ?? 32,
    duration: opts.duration ?? 5,
    amount: opts.amount,
    requests: [
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: requestBody,
        onResponse: (status, resBody) => {
          if (status === 200 && /"RetCode":0[,}]/.test(resBody.slice(0, 200))) return;
          refused++;
          example ||= resBody.slice(0, 300);
        },
      },
    ],
  });
  if (r.non2xx > 0 || r.errors > 0 || refused > 0)
    throw new Error(`load had ${r.non2xx} non-2xx, ${r.errors} errors, ${refused} refused: ${example}`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total };
}

/** Creates `n` instances through the API and waits until all run; returns their ids. */
export async function createRunningMany(url, n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const r = await post(url, "CreateCompShareInstance", createParams({ ChargeType: "Dynamic" }));
    ids.push(r.UHostIds[0]);
  }
  for (const id of ids) {
    for (;;) {
      const d = await post(url, "DescribeCompShareInstance", { UHostIds: [id] });
      if (d.UHostSet?.[0]?.State === "Running") break;
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  return ids;
}

export async function post(url, action, params = {}) {
  return JSON.parse((await send(url, body(action, params))).body);
}

/** One keep-alive connection pool per process: a closed-loop client reuses its socket as curl would. */
const agent = new http.Agent({ keepAlive: true });

/**
 * A form POST over node:http with a keep-alive agent; resolves with the status and the body. The
 * closed-loop figures use it rather than fetch: fetch spends ~0.4 ms of client CPU per call here
 * (0.555 ms round trip to a bare server against 0.127 ms for this), which would cap every
 * one-client ratio near the client's own speed instead of the servers'.
 */
export function send(url, requestBody, headers = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: "POST",
        agent,
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "Content-Length": Buffer.byteLength(requestBody),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(requestBody);
  });
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (clock ticks of 10 ms). */
export function cpuMs(pid) {
  return statCpuMs(readFileSync(`/proc/${pid}/stat`, "utf8"));
}

/** The CPU time in a /proc/PID/stat line (utime and stime, the 14th and 15th fields). */
function statCpuMs(stat) {
  const fields = stat.split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * `load`, plus the server's own CPU per answered request (µs): where a ratio's gap lies. With
 * `storeCpuMs` (a PostgreSQL store's), the database's CPU per request too: it shares the cores.
 */
export async function loadWithCpu(pid, url, requestBody, opts = {}) {
  const { storeCpuMs, ...loadOpts } = opts;
  const before = cpuMs(pid);
  const storeBefore = storeCpuMs?.();
  const r = await load(url, requestBody, loadOpts);
  const out = { ...r, serverCpuUsPerRequest: ((cpuMs(pid) - before) * 1000) / r.total };
  if (storeCpuMs) out.storeCpuUsPerRequest = ((storeCpuMs() - storeBefore) * 1000) / r.total;
  return out;
}

/**
 * CPU (ms) of every `postgres` process now running: the bench's throwaway server is the only one
 * while it runs. A backend that exits in between takes its time with it (the server's pool keeps
 * its connections open through a load).
 */
export function postgresCpuMs() {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    if (stat.includes("(postgres)")) total += statCpuMs(stat);
  }
  return total;
}

export function rssMB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024);
}

export function machine() {
  const c = cpus();
  return { cpu: c[0]?.model ?? "unknown", cores: c.length, node: process.version };
}

export const fmt = (n, d = 1) => (typeof n === "number" ? n.toFixed(d) : String(n));
