// `npm run bench`: the benchmarks of issues #7 and #17, on SQLite and on a throwaway PostgreSQL
// (OCS_BENCH_STORE=sqlite|postgres runs one). Each prints its figures; ratios are against
// baselines measured in the same run on the same machine, so they hold on a noisy box.
// `node bench/run.mjs describe scale` runs some; OCS_BENCH_SIZE=0.1 shrinks every instance count
// (a quick check, never recorded). A full run writes bench/results.json and bench/RESULTS.md.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer as netServer } from "node:net";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { kubernetesBench } from "./kubernetes.mjs";
import {
  BENCH_ACCOUNT,
  CREATE,
  baseline,
  body,
  catalogFile,
  cpuMs,
  createRunningMany,
  fmt,
  load,
  loadWithCpu,
  machine,
  onInterrupt,
  post,
  rssMB,
  seed,
  send,
  startProcess,
  storeCounter,
  stores,
  tmp,
} from "./lib.mjs";
import { monitorBench } from "./monitor.mjs";
import { renderMarkdown } from "./render.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
const size = Number(process.env.OCS_BENCH_SIZE ?? 1);
const scaled = (n) => Math.max(100, Math.round(n * size));
const results = {
  machine: machine(),
  date: new Date().toISOString(),
  commit: process.env.OCS_BENCH_COMMIT ?? commitOf(),
  loadBefore: loadavg(),
  benches: {},
};
const log = (s) => process.stdout.write(`${s}\n`);

function commitOf() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: here,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function state(url, id) {
  const r = await post(url, "DescribeCompShareInstance", { UHostIds: [id] });
  return r.UHostSet?.[0]?.State;
}

/** Polls Describe until the state is `target`; how many Describes it took. */
async function until(url, id, target) {
  let asked = 1;
  while ((await state(url, id)) !== target) {
    await sleep(2);
    asked++;
  }
  return asked;
}

/** A fresh store, seeded with `n` instances, and `ocs serve` on it (sim driver at 0 ms). */
async function serverWith(store, prefix, n, opts = {}) {
  const dir = tmp(prefix);
  const cat = catalogFile(dir, opts.hosts ?? 100);
  const env = await store.fresh();
  const t0 = Date.now();
  if (n > 0) await seed(dir, cat, n, { env, ...opts.seed });
  const seeded = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const started = await startProcess({
    OCS_DATA_DIR: dir,
    OCS_CATALOG: cat,
    OCS_SIM_LATENCY_MS: "0",
    // The bench account's requests measure the service, not the per-account throttle (50/s by default).
    OCS_ACCOUNT_RATE: "0",
    ...env,
  });
  const forget = onInterrupt(() => started.kill());
  const p = {
    ...started,
    kill: () => {
      forget();
      return started.kill();
    },
  };
  return { p, dir, env, seededSeconds: seeded, startSeconds: (Date.now() - t1) / 1000 };
}

// ------------------------------------------------------------------ 1. Describe throughput
async function describeBench(store) {
  const n = scaled(10_000);
  log(`\n== 1. [${store.name}] Describe throughput and latency (${n} instances, 32 connections, 5 s each)`);
  const { p } = await serverWith(store, "describe", n, { hosts: 20 });
  const out = {};
  try {
    for (const [name, params] of [
      ["by one UHostId", { UHostIds: [`uhost-b${String(Math.floor(n / 2)).padStart(7, "0")}`] }],
      ["page of 20", { Limit: 20 }],
      ["page of 100", { Limit: 100 }],
    ]) {
      const b = body("DescribeCompShareInstance", params);
      const sample = (await send(p.url, b)).body;
      if (JSON.parse(sample).RetCode !== 0) throw new Error(sample);
      const ours = await loadWithCpu(p.child.pid, p.url, b, { storeCpuMs: store.cpuMs });
      const base = await baseline(sample);
      const bare = await loadWithCpu(base.pid, base.url, b);
      base.kill();
      out[name] = { bodyBytes: sample.length, ocs: ours, bareNodeHttp: bare, ratio: ours.rps / bare.rps };
      log(
        `${name.padEnd(16)} ${String(sample.length).padStart(7)} B  ocs ${fmt(ours.rps, 0)} req/s p50 ${ours.p50} ms p99 ${ours.p99} ms, ${fmt(ours.serverCpuUsPerRequest, 0)} µs CPU/req${ours.storeCpuUsPerRequest === undefined ? "" : ` (+ PostgreSQL ${fmt(ours.storeCpuUsPerRequest, 0)})`} | bare node:http ${fmt(bare.rps, 0)} req/s p99 ${bare.p99} ms, ${fmt(bare.serverCpuUsPerRequest, 0)} µs CPU/req | ratio ${fmt(ours.rps / bare.rps, 2)}`,
      );
    }
  } finally {
    await p.kill();
  }
  return out;
}

// ------------------------------------------------------------------ 2. Lifecycle throughput
async function lifecycleBench(store) {
  log(`\n== 2. [${store.name}] Lifecycle throughput (sim driver at 0 ms, 32 clients, 10 s)`);
  const { p } = await serverWith(store, "lifecycle", 0, { hosts: 20 });
  try {
    const ids = await createRunningMany(p.url, 64);
    const before = (await p.call("EmulatorStatus")).DriverCalls;
    let cycles = 0;
    const started = Date.now();
    const deadline = started + 10_000;
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        const mine = ids.filter((_, i) => i % 32 === w);
        while (Date.now() < deadline) {
          for (const id of mine) {
            await post(p.url, "StopCompShareInstance", { Zone: "cn-wlcb-01", UHostId: id });
            await until(p.url, id, "Stopped");
            await post(p.url, "StartCompShareInstance", { Zone: "cn-wlcb-01", UHostId: id });
            await until(p.url, id, "Running");
            cycles++;
          }
        }
      }),
    );
    const secs = (Date.now() - started) / 1000;
    const after = (await p.call("EmulatorStatus")).DriverCalls;
    const transitions = after.start - before.start + (after.stop - before.stop);
    log(
      `start/stop cycles: ${fmt(cycles / secs)} /s (each: Stop, wait Stopped, Start, wait Running, polled through Describe)`,
    );
    log(`worker transitions: ${fmt(transitions / secs)} /s`);
    return { cyclesPerSecond: cycles / secs, transitionsPerSecond: transitions / secs };
  } finally {
    await p.kill();
  }
}

// ------------------------------------------------------------------ 3. Scheduled stops
async function schedulerBench(store) {
  const n = scaled(100_000);
  const limitS = 180;
  log(`\n== 3. [${store.name}] ${n} scheduled stops due in the same second (clock advanced)`);
  const due = Date.now() + 3_600_000;
  const { p, dir, env } = await serverWith(store, "sched", n, { hosts: 20, seed: { stopAt: due } });
  const counter = await storeCounter(dir, env);
  try {
    const t0 = Date.now();
    await p.call("EmulatorAdvanceClock", { Seconds: 3601 });
    // Fired: the scheduler began the instance's Stop (its scheduled-stop task is gone, in the same
    // transaction); stopped: the worker finished that Stop.
    let stopped = 0;
    let firedSeconds;
    while (stopped < n && Date.now() - t0 < limitS * 1000) {
      await sleep(250);
      if (firedSeconds === undefined) {
        const left = await counter.count("SELECT COUNT(*) AS n FROM tasks WHERE kind = 'scheduled-stop'");
        if (left === 0) firedSeconds = (Date.now() - t0) / 1000;
      }
      stopped = await counter.count(
        "SELECT COUNT(*) AS n FROM instances WHERE state = 'Stopped' AND operation IS NULL",
      );
    }
    const secs = (Date.now() - t0) / 1000;
    const calls = (await p.call("EmulatorStatus")).DriverCalls;
    const all = stopped >= n;
    log(
      all
        ? `all ${n} fired in ${fmt(firedSeconds, 2)} s and stopped in ${fmt(secs, 2)} s (${fmt(n / secs, 0)} stops/s; driver stop calls: ${calls.stop})`
        : `only ${stopped} of ${n} stopped after ${limitS} s (${fmt(stopped / secs, 0)} stops/s; all fired: ${firedSeconds === undefined ? "no" : `${fmt(firedSeconds, 2)} s`})`,
    );
    return {
      instances: n,
      all,
      stopped,
      firedSeconds,
      seconds: secs,
      stopsPerSecond: stopped / secs,
      driverStopCalls: calls.stop,
    };
  } finally {
    await counter.close();
    await p.kill();
  }
}

// ------------------------------------------------------------------ 4 and 5. Scale
/**
 * At `n` instances: RSS, Describe latency alone (1 connection: the service time) and under load
 * (32 connections, beside bare node:http answering the same body at the same concurrency: the
 * ceiling), a deep page (the last one), by id, and Create alone and 8 at a time.
 */
async function scaleAt(store, n, label) {
  log(`\n== ${label}. [${store.name}] Scale: ${n} instances`);
  const s = await serverWith(store, `scale${n}`, n, { hosts: 128, seed: { account: BENCH_ACCOUNT } });
  const { p } = s;
  log(
    `seeded ${n} instances through the store in ${fmt(s.seededSeconds)} s; server started in ${fmt(s.startSeconds)} s`,
  );
  const k = BENCH_ACCOUNT.keys;
  const describe = (params) => body("DescribeCompShareInstance", params, k);
  try {
    const rssIdle = rssMB(p.child.pid);
    const one = await load(
      p.url,
      describe({ UHostIds: [`uhost-b${String(Math.floor(n / 2)).padStart(7, "0")}`] }),
      {
        connections: 1,
      },
    );
    const page = await load(p.url, describe({ Limit: 100 }), { connections: 1 });
    const deep = await load(p.url, describe({ Limit: 100, Offset: n - 100 }), { connections: 1 });
    const pageLoaded = await load(p.url, describe({ Limit: 100 }), { connections: 32 });
    const sample = (await send(p.url, describe({ Limit: 100 }))).body;
    if (JSON.parse(sample).TotalCount !== n)
      throw new Error(`TotalCount is not ${n}: ${sample.slice(0, 200)}`);
    const base = await baseline(sample);
    const bare = await load(base.url, describe({ Limit: 100 }), { connections: 32 });
    base.kill();
    const create = body("CreateCompShareInstance", CREATE, k);
    // 300 + 500 creates of one GPU fit the 128 hosts' 1024 GPUs.
    const create1 = await load(p.url, create, { connections: 1, amount: 300, duration: 60 });
    const create8 = await load(p.url, create, { connections: 8, amount: 500, duration: 60 });
    const rssLoaded = rssMB(p.child.pid);
    log(`server RSS: ${rssIdle} MB after start, ${rssLoaded} MB after the load`);
    log(`Describe by id, 1 conn:        p50 ${one.p50} ms, p99 ${one.p99} ms (${fmt(one.rps, 0)} req/s)`);
    log(`Describe page of 100, 1 conn:  p50 ${page.p50} ms, p99 ${page.p99} ms (${fmt(page.rps, 0)} req/s)`);
    log(`Describe last page, 1 conn:    p50 ${deep.p50} ms, p99 ${deep.p99} ms (${fmt(deep.rps, 0)} req/s)`);
    log(
      `Describe page of 100, 32 conns: ${fmt(pageLoaded.rps, 0)} req/s, p99 ${pageLoaded.p99} ms | bare node:http ${fmt(bare.rps, 0)} req/s, p99 ${bare.p99} ms | ratio ${fmt(pageLoaded.rps / bare.rps, 2)}`,
    );
    log(`Create, 1 conn:  p50 ${create1.p50} ms, p99 ${create1.p99} ms (${create1.total} creates)`);
    log(`Create, 8 conns: p50 ${create8.p50} ms, p99 ${create8.p99} ms (${create8.total} creates)`);
    return {
      instances: n,
      seededSeconds: s.seededSeconds,
      startSeconds: s.startSeconds,
      rssIdleMB: rssIdle,
      rssLoadedMB: rssLoaded,
      describeOne: one,
      describePage100: page,
      describeLastPage: deep,
      describePage100Loaded: pageLoaded,
      bareNodeHttpPage100: bare,
      create: create1,
      create8,
    };
  } finally {
    await p.kill();
  }
}

const scaleBench = (store) => scaleAt(store, scaled(100_000), "4");
const scale1mBench = (store) => scaleAt(store, scaled(1_000_000), "5");

// ------------------------------------------------------------------ 6. Against moto
function freePort() {
  return new Promise((resolve) => {
    const s = netServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function ensureMoto() {
  const venv = join(here, "..", ".test-deps", "bench-py");
  const py = join(venv, "bin", "python");
  if (!existsSync(py)) execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
  if (spawnSync(py, ["-c", "import moto.server, boto3"], { stdio: "ignore" }).status !== 0) {
    log("installing moto[server]==5.2.5 from PyPI…");
    execFileSync(py, ["-m", "pip", "install", "-q", "--disable-pip-version-check", "moto[server]==5.2.5"], {
      stdio: "inherit",
    });
  }
  return py;
}

async function motoBench(store) {
  log(`\n== 6. [${store.name}] Against moto (the Python AWS emulator), same operations on its EC2 emulation`);
  const py = ensureMoto();
  const port = await freePort();
  const moto = spawn(py, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const forgetMoto = onInterrupt(async () => moto.kill());
  const motoUrl = `http://127.0.0.1:${port}`;
  const { p: ocs } = await serverWith(store, "moto", 0, { hosts: 20 });
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(motoUrl);
        break;
      } catch {
        await sleep(100);
      }
    }
    // 100 instances on each side.
    const setup = `
import boto3, json
ec2 = boto3.client("ec2", endpoint_url="${motoUrl}", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
r = ec2.run_instances(ImageId=ami, MinCount=100, MaxCount=100, InstanceType="g5.xlarge")
print(json.dumps([i["InstanceId"] for i in r["Instances"]]))`;
    const motoIds = JSON.parse(execFileSync(py, ["-c", setup]).toString());
    const ocsIds = await createRunningMany(ocs.url, 100);
    // moto's EC2 query API takes unsigned form posts; the region comes from the Authorization scope.
    const auth = {
      Authorization:
        "AWS4-HMAC-SHA256 Credential=x/20261123/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x",
    };
    const ec2 = (params) => new URLSearchParams({ Version: "2016-11-15", ...params }).toString();
    // moto runs on Werkzeug's threaded development server with Connection: close, which autocannon
    // cannot drive; both sides therefore get the same closed-loop client (node:http, keep-alive
    // where the server keeps the connection), at 1 and 8 clients.
    // With the server's pid, also its CPU per request (user and system): at one client the server
    // sleeps between requests and runs each one cold, which costs more than under load.
    const closedLoop = async (url, headers, b, clients, pid) => {
      const lat = [];
      const cpu0 = pid ? cpuMs(pid) : 0;
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (Date.now() - t0 < 5000) {
            const s0 = performance.now();
            const res = await send(url, b, headers);
            if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
            lat.push(performance.now() - s0);
          }
        }),
      );
      const serverCpuUsPerRequest = pid ? ((cpuMs(pid) - cpu0) * 1000) / lat.length : undefined;
      lat.sort((x, y) => x - y);
      const q = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] * 10) / 10;
      return {
        rps: lat.length / ((Date.now() - t0) / 1000),
        p50: q(0.5),
        p99: q(0.99),
        serverCpuUsPerRequest,
      };
    };
    const out = {};
    for (const [name, ocsBody, motoBody] of [
      [
        "describe one",
        body("DescribeCompShareInstance", { UHostIds: [ocsIds[50]] }),
        ec2({ Action: "DescribeInstances", "InstanceId.1": motoIds[50] }),
      ],
      [
        "page of 100",
        body("DescribeCompShareInstance", { Limit: 100 }),
        ec2({ Action: "DescribeInstances", MaxResults: "100" }),
      ],
    ]) {
      // The ceiling of this client on this machine: bare node:http answering our body, pre-serialized.
      const base = await baseline((await send(ocs.url, ocsBody)).body);
      for (const clients of [1, 8]) {
        const a = await closedLoop(ocs.url, {}, ocsBody, clients, ocs.child.pid);
        const m = await closedLoop(motoUrl, auth, motoBody, clients);
        const bare = await closedLoop(base.url, {}, ocsBody, clients, base.pid);
        const key = `${name}, ${clients} client${clients > 1 ? "s" : ""}`;
        out[key] = { ocs: a, moto: m, ratio: a.rps / m.rps, bareNodeHttp: bare, bareRatio: bare.rps / m.rps };
        log(
          `${key.padEnd(24)} ocs ${fmt(a.rps, 0)} req/s p99 ${a.p99} ms | moto ${fmt(m.rps, 0)} req/s p99 ${m.p99} ms | ratio ocs/moto ${fmt(a.rps / m.rps, 2)} (bare node:http ${fmt(bare.rps, 0)} req/s: ${fmt(bare.rps / m.rps, 1)}× moto); server CPU ${fmt(a.serverCpuUsPerRequest, 0)} µs/req (bare ${fmt(bare.serverCpuUsPerRequest, 0)})`,
        );
      }
      base.kill();
    }
    // Stop/start one instance, sequentially, each call answered (moto flips state at once;
    // opencompshare's cycle also waits for the worker to finish each transition).
    const cycles = async (fn) => {
      let n = 0;
      const t0 = Date.now();
      while (Date.now() - t0 < 5000) {
        await fn();
        n++;
      }
      return n / ((Date.now() - t0) / 1000);
    };
    const motoPost = (params) => send(motoUrl, ec2(params), auth);
    const mCycles = await cycles(async () => {
      await motoPost({ Action: "StopInstances", "InstanceId.1": motoIds[0] });
      await motoPost({ Action: "StartInstances", "InstanceId.1": motoIds[0] });
    });
    // Where an opencompshare cycle's time goes: each step's wall time, and the server's CPU.
    const steps = { stopMs: 0, untilStoppedMs: 0, startMs: 0, untilRunningMs: 0, describes: 0 };
    let ran = 0;
    const step = async (name, fn) => {
      const t = performance.now();
      await fn();
      steps[name] += performance.now() - t;
    };
    const cpu0 = cpuMs(ocs.child.pid);
    const oCycles = await cycles(async () => {
      await step("stopMs", () =>
        post(ocs.url, "StopCompShareInstance", { Zone: "cn-wlcb-01", UHostId: ocsIds[0] }),
      );
      await step("untilStoppedMs", async () => {
        steps.describes += await until(ocs.url, ocsIds[0], "Stopped");
      });
      await step("startMs", () =>
        post(ocs.url, "StartCompShareInstance", { Zone: "cn-wlcb-01", UHostId: ocsIds[0] }),
      );
      await step("untilRunningMs", async () => {
        steps.describes += await until(ocs.url, ocsIds[0], "Running");
      });
      ran++;
    });
    const perCycle = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, v / ran]));
    out["stop/start one"] = {
      ocsCyclesPerSecond: oCycles,
      motoCyclesPerSecond: mCycles,
      ratio: oCycles / mCycles,
      ocsPerCycle: { ...perCycle, serverCpuMs: (cpuMs(ocs.child.pid) - cpu0) / ran },
    };
    log(
      `stop/start one: ocs ${fmt(oCycles)} cycles/s | moto ${fmt(mCycles)} cycles/s | ratio ocs/moto ${fmt(oCycles / mCycles, 2)}`,
    );
    log(
      `  an ocs cycle: Stop ${fmt(perCycle.stopMs, 2)} ms, until Stopped ${fmt(perCycle.untilStoppedMs, 2)} ms, Start ${fmt(perCycle.startMs, 2)} ms, until Running ${fmt(perCycle.untilRunningMs, 2)} ms (${fmt(perCycle.describes, 2)} Describes); server CPU ${fmt(out["stop/start one"].ocsPerCycle.serverCpuMs, 2)} ms`,
    );
    return out;
  } finally {
    forgetMoto();
    moto.kill();
    await ocs.kill();
  }
}

const benches = [
  ["describe", describeBench],
  ["lifecycle", lifecycleBench],
  ["scheduler", schedulerBench],
  ["scale", scaleBench],
  ["scale1m", scale1mBench],
  ["moto", motoBench, "sqlite"],
  ["monitor", () => monitorBench(log), "sqlite"],
  // The control plane's own store is etcd; ours is beside the point there.
  ["kubernetes", () => kubernetesBench(log), "sqlite"],
];
log(`machine: ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}`);
log(`load average before: ${results.loadBefore.map((x) => x.toFixed(2)).join(", ")}`);
const all = await stores();
const started = Date.now();
try {
  for (const [name, fn, onlyOn] of benches) {
    if (!want(name)) continue;
    for (const store of all) {
      if (onlyOn && store.name !== onlyOn) continue;
      results.benches[name] ??= {};
      results.benches[name][store.name] = await fn(store);
    }
  }
} finally {
  for (const s of all) await s.stop();
}
results.minutes = (Date.now() - started) / 60_000;
results.loadAfter = loadavg();
log(
  `\nload average after: ${results.loadAfter.map((x) => x.toFixed(2)).join(", ")}; ${fmt(results.minutes)} min`,
);
// Only a full run at full size replaces the recorded results; a partial run just prints.
if (only.length === 0 && size === 1 && !process.env.OCS_BENCH_STORE) {
  writeFileSync(join(here, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(here, "RESULTS.md"), renderMarkdown(results));
  log("wrote bench/results.json and bench/RESULTS.md");
} else if (process.env.OCS_BENCH_OUT) {
  writeFileSync(process.env.OCS_BENCH_OUT, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${process.env.OCS_BENCH_OUT}`);
} else {
  log("partial run: recorded results unchanged");
}
