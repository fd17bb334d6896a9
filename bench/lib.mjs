// Shared pieces of the benchmarks: seeding the store directly, server processes, the bare
// node:http baseline, and the load generator (autocannon, 32 connections unless told otherwise).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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

export function tmp(prefix) {
  return mkdtempSync(join(tmpdir(), `ocs-bench-${prefix}-`));
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

/**
 * Seeds `n` instances straight into the store (not through n API calls): Stopped and holding
 * nothing, or with a scheduled stop due at `stopAt` (Running, GPUs not held: the scheduler path
 * releases what the instance holds, which is nothing), or `running` (for the monitoring collector).
 */
export async function seed(dataDir, catalogPath, n, opts = {}) {
  const config = loadConfig(
    {
      OCS_DATA_DIR: dataDir,
      OCS_CATALOG: catalogPath,
      OCS_ROOT_PUBLIC_KEY: ROOT.publicKey,
      OCS_ROOT_PRIVATE_KEY: ROOT.privateKey,
    },
    dataDir,
  );
  const server = await createServer(config, { log: silentLogger });
  const store = server.internals.store;
  const root = (await server.services.accounts.listAccounts()).find((a) => a.isRoot);
  const project = (await server.services.accounts.projectsOf(root.id))[0];
  const sealed = new SecretBox(loadOrCreateMasterKey(dataDir)).seal("Bench-Passw0rd");
  const now = Date.now();
  const batch = 2000;
  for (let start = 0; start < n; start += batch) {
    await store.tx(async (r) => {
      for (let i = start; i < Math.min(n, start + batch); i++) {
        const id = `uhost-b${String(i).padStart(7, "0")}`;
        await r.instances.insert(
          sampleInstance(id, now, {
            accountId: root.id,
            projectId: project.id,
            name: `bench-${i}`,
            state: opts.stopAt || opts.running ? "Running" : "Stopped",
            hostId: "b-0",
            holdsCompute: false,
            chargeType: "Dynamic",
            passwordSealed: sealed,
            createdAt: now - i,
            schedulerStopAt: opts.stopAt ?? null,
          }),
        );
        await r.disks.insert({
          id: `bsm-b${i}`,
          accountId: root.id,
          instanceId: id,
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
        });
        if (opts.stopAt) {
          await r.tasks.insert(
            { id: `task-b${i}`, kind: "scheduled-stop", instanceId: id, dueAt: opts.stopAt, payload: {} },
            now,
          );
        }
      }
    });
  }
  await server.close();
}

/** A signed form body for autocannon (no nonce in the scheme, so one body can be replayed). */
export function body(action, params = {}) {
  return signedForm(
    { Action: action, Region: "cn-wlcb", ...params },
    ROOT.publicKey,
    ROOT.privateKey,
  ).toString();
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
  return { url: `http://127.0.0.1:${port}`, kill: () => child.kill() };
}

/** Runs autocannon; returns req/s and latency percentiles in ms. */
export async function load(url, requestBody, opts = {}) {
  const r = await autocannon({
    url,
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: requestBody,
    connections: opts.connections ?? 32,
    duration: opts.duration ?? 5,
    amount: opts.amount,
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`load had ${r.non2xx} non-2xx and ${r.errors} errors`);
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
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: body(action, params),
  });
  return res.json();
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
