// `npm run bench`: the five benchmarks of bench/README (issue #7). Each prints its figures; ratios are
// against baselines measured in the same run on the same machine, so they hold on a noisy box.
// Writes bench/results.json and bench/RESULTS.md.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer as netServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { kubernetesBench } from "./kubernetes.mjs";
import {
  baseline,
  body,
  catalogFile,
  createRunningMany,
  fmt,
  load,
  machine,
  post,
  rssMB,
  seed,
  startProcess,
  tmp,
} from "./lib.mjs";
import { monitorBench } from "./monitor.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
const results = { machine: machine(), date: new Date().toISOString(), benches: {} };
const log = (s) => process.stdout.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function state(url, id) {
  const r = await post(url, "DescribeCompShareInstance", { UHostIds: [id] });
  return r.UHostSet?.[0]?.State;
}

async function until(url, id, target) {
  while ((await state(url, id)) !== target) await sleep(2);
}

// ------------------------------------------------------------------ 1. Describe throughput
async function describeBench() {
  log("\n== 1. Describe throughput and latency (10,000 instances, 32 connections, 5 s each)");
  const dir = tmp("describe");
  const cat = catalogFile(dir, 20);
  await seed(dir, cat, 10_000);
  const p = await startProcess({ OCS_DATA_DIR: dir, OCS_CATALOG: cat, OCS_SIM_LATENCY_MS: "0" });
  const out = {};
  try {
    for (const [name, params] of [
      ["by one UHostId", { UHostIds: ["uhost-b0005000"] }],
      ["page of 20", { Limit: 20 }],
      ["page of 100", { Limit: 100 }],
    ]) {
      const b = body("DescribeCompShareInstance", params);
      const sample = await (
        await fetch(p.url, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: b,
        })
      ).text();
      if (JSON.parse(sample).RetCode !== 0) throw new Error(sample);
      const ours = await load(p.url, b);
      const base = await baseline(sample);
      const bare = await load(base.url, b);
      base.kill();
      out[name] = { bodyBytes: sample.length, ocs: ours, bareNodeHttp: bare, ratio: ours.rps / bare.rps };
      log(
        `${name.padEnd(16)} ${String(sample.length).padStart(7)} B  ocs ${fmt(ours.rps, 0)} req/s p50 ${ours.p50} ms p99 ${ours.p99} ms | bare node:http ${fmt(bare.rps, 0)} req/s p99 ${bare.p99} ms | ratio ${fmt(ours.rps / bare.rps, 2)}`,
      );
    }
  } finally {
    await p.kill();
  }
  return out;
}

// ------------------------------------------------------------------ 2. Lifecycle throughput
async function lifecycleBench() {
  log("\n== 2. Lifecycle throughput (sim driver at 0 ms, 32 clients, 10 s)");
  const dir = tmp("lifecycle");
  const p = await startProcess({
    OCS_DATA_DIR: dir,
    OCS_CATALOG: catalogFile(dir, 20),
    OCS_SIM_LATENCY_MS: "0",
  });
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
async function schedulerBench() {
  log("\n== 3. 10,000 scheduled stops due in the same second (clock advanced)");
  const dir = tmp("sched");
  const cat = catalogFile(dir, 20);
  const due = Date.now() + 3_600_000;
  await seed(dir, cat, 10_000, { stopAt: due });
  const p = await startProcess({ OCS_DATA_DIR: dir, OCS_CATALOG: cat, OCS_SIM_LATENCY_MS: "0" });
  const db = new Database(join(dir, "ocs.sqlite"), { readonly: true });
  try {
    const t0 = Date.now();
    await p.call("EmulatorAdvanceClock", { Seconds: 3601 });
    let stopped = 0;
    while (stopped < 10_000) {
      await sleep(50);
      stopped = db
        .prepare("SELECT COUNT(*) AS n FROM instances WHERE state = 'Stopped' AND operation IS NULL")
        .get().n;
      if (Date.now() - t0 > 600_000) throw new Error(`only ${stopped} stopped after 10 minutes`);
    }
    const secs = (Date.now() - t0) / 1000;
    const calls = (await p.call("EmulatorStatus")).DriverCalls;
    log(
      `all 10,000 fired and stopped in ${fmt(secs, 2)} s (${fmt(10_000 / secs, 0)} stops/s; driver stop calls: ${calls.stop})`,
    );
    return { seconds: secs, stopsPerSecond: 10_000 / secs, driverStopCalls: calls.stop };
  } finally {
    db.close();
    await p.kill();
  }
}

// ------------------------------------------------------------------ 4. Scale
async function scaleBench() {
  log("\n== 4. Scale: 100,000 instances");
  const dir = tmp("scale");
  const cat = catalogFile(dir, 100);
  const t0 = Date.now();
  await seed(dir, cat, 100_000);
  log(`seeded 100,000 instances through the store in ${fmt((Date.now() - t0) / 1000)} s`);
  const p = await startProcess({ OCS_DATA_DIR: dir, OCS_CATALOG: cat, OCS_SIM_LATENCY_MS: "0" });
  try {
    const rssIdle = rssMB(p.child.pid);
    const page = await load(p.url, body("DescribeCompShareInstance", { Limit: 100 }));
    const one = await load(p.url, body("DescribeCompShareInstance", { UHostIds: ["uhost-b0050000"] }));
    const create = await load(
      p.url,
      body("CreateCompShareInstance", {
        Zone: "cn-wlcb-01",
        GpuType: "4090",
        GPU: 1,
        CPU: 16,
        Memory: 65536,
        CompShareImageId: "compshareImage-ubuntu2204",
        ChargeType: "Dynamic",
      }),
      { connections: 8, amount: 500 },
    );
    const rssLoaded = rssMB(p.child.pid);
    log(`server RSS: ${rssIdle} MB after start, ${rssLoaded} MB after the load`);
    log(`Describe page of 100: ${fmt(page.rps, 0)} req/s, p50 ${page.p50} ms, p99 ${page.p99} ms`);
    log(`Describe by id:       ${fmt(one.rps, 0)} req/s, p50 ${one.p50} ms, p99 ${one.p99} ms`);
    log(`Create (500, 8 conns): p50 ${create.p50} ms, p99 ${create.p99} ms`);
    return { rssIdleMB: rssIdle, rssLoadedMB: rssLoaded, describePage100: page, describeOne: one, create };
  } finally {
    await p.kill();
  }
}

// ------------------------------------------------------------------ 5. Against moto
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

async function motoBench() {
  log("\n== 5. Against moto (the Python AWS emulator), same operations on its EC2 emulation");
  const py = ensureMoto();
  const port = await freePort();
  const moto = spawn(py, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const motoUrl = `http://127.0.0.1:${port}`;
  const dir = tmp("moto");
  const ocs = await startProcess({
    OCS_DATA_DIR: dir,
    OCS_CATALOG: catalogFile(dir, 20),
    OCS_SIM_LATENCY_MS: "0",
  });
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
    // cannot drive; both sides therefore get the same closed-loop fetch client, at 1 and 8 clients.
    const closedLoop = async (url, headers, b, clients) => {
      const lat = [];
      const t0 = Date.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (Date.now() - t0 < 5000) {
            const s0 = performance.now();
            const res = await fetch(url, {
              method: "POST",
              headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
              body: b,
            });
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
            lat.push(performance.now() - s0);
          }
        }),
      );
      lat.sort((x, y) => x - y);
      const q = (p) => Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] * 10) / 10;
      return { rps: lat.length / ((Date.now() - t0) / 1000), p50: q(0.5), p99: q(0.99) };
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
      for (const clients of [1, 8]) {
        const a = await closedLoop(ocs.url, {}, ocsBody, clients);
        const m = await closedLoop(motoUrl, auth, motoBody, clients);
        const key = `${name}, ${clients} client${clients > 1 ? "s" : ""}`;
        out[key] = { ocs: a, moto: m, ratio: a.rps / m.rps };
        log(
          `${key.padEnd(24)} ocs ${fmt(a.rps, 0)} req/s p99 ${a.p99} ms | moto ${fmt(m.rps, 0)} req/s p99 ${m.p99} ms | ratio ocs/moto ${fmt(a.rps / m.rps, 2)}`,
        );
      }
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
    const motoPost = (params) =>
      fetch(motoUrl, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...auth },
        body: ec2(params),
      }).then((r) => r.text());
    const mCycles = await cycles(async () => {
      await motoPost({ Action: "StopInstances", "InstanceId.1": motoIds[0] });
      await motoPost({ Action: "StartInstances", "InstanceId.1": motoIds[0] });
    });
    const oCycles = await cycles(async () => {
      await post(ocs.url, "StopCompShareInstance", { Zone: "cn-wlcb-01", UHostId: ocsIds[0] });
      await until(ocs.url, ocsIds[0], "Stopped");
      await post(ocs.url, "StartCompShareInstance", { Zone: "cn-wlcb-01", UHostId: ocsIds[0] });
      await until(ocs.url, ocsIds[0], "Running");
    });
    out["stop/start one"] = {
      ocsCyclesPerSecond: oCycles,
      motoCyclesPerSecond: mCycles,
      ratio: oCycles / mCycles,
    };
    log(
      `stop/start one: ocs ${fmt(oCycles)} cycles/s | moto ${fmt(mCycles)} cycles/s | ratio ocs/moto ${fmt(oCycles / mCycles, 2)}`,
    );
    return out;
  } finally {
    moto.kill();
    await ocs.kill();
  }
}

function renderMarkdown(r) {
  const b = r.benches;
  const lines = [
    "# Benchmark results",
    "",
    `Run of \`npm run bench\` on ${r.date.slice(0, 10)}: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}.`,
    "Ratios compare with baselines measured in the same run on the same machine. Raw figures: `bench/results.json`.",
    "",
    "## 1. Describe (10,000 instances, 32 connections) vs bare node:http with a pre-serialized body of the same size",
    "",
    "| request | body | ocs req/s | ocs p50 / p99 ms | bare req/s | bare p99 ms | ratio |",
    "|---|---|---|---|---|---|---|",
    ...Object.entries(b.describe ?? {}).map(
      ([k, v]) =>
        `| ${k} | ${v.bodyBytes} B | ${fmt(v.ocs.rps, 0)} | ${v.ocs.p50} / ${v.ocs.p99} | ${fmt(v.bareNodeHttp.rps, 0)} | ${v.bareNodeHttp.p99} | ${fmt(v.ratio, 2)} |`,
    ),
    "",
    "## 2. Lifecycle (sim driver at 0 ms)",
    "",
    `- start/stop cycles through the API (Stop, wait Stopped, Start, wait Running; 32 clients): **${fmt(b.lifecycle?.cyclesPerSecond)} /s**`,
    `- worker transitions: **${fmt(b.lifecycle?.transitionsPerSecond)} /s**`,
    "",
    "## 3. Scheduled stops",
    "",
    `- 10,000 schedules due in the same second, clock advanced: all fired and stopped in **${fmt(b.scheduler?.seconds, 2)} s** (${fmt(b.scheduler?.stopsPerSecond, 0)} stops/s; driver stop calls: ${b.scheduler?.driverStopCalls})`,
    "",
    "## 4. Scale (100,000 instances)",
    "",
    `- server RSS: ${b.scale?.rssIdleMB} MB after start, ${b.scale?.rssLoadedMB} MB after the load`,
    `- Describe page of 100: ${fmt(b.scale?.describePage100.rps, 0)} req/s, p50 ${b.scale?.describePage100.p50} ms, **p99 ${b.scale?.describePage100.p99} ms** (32 connections)`,
    `- Describe by id: ${fmt(b.scale?.describeOne.rps, 0)} req/s, p99 ${b.scale?.describeOne.p99} ms`,
    `- Create: p50 ${b.scale?.create.p50} ms, **p99 ${b.scale?.create.p99} ms** (500 creates, 8 connections)`,
    "",
    "## 5. Against moto 5.2.5 (EC2 emulation), same operations",
    "",
    "| operation | ocs req/s (p99 ms) | moto req/s (p99 ms) | ratio ocs/moto |",
    "|---|---|---|---|",
    ...Object.entries(b.moto ?? {})
      .filter(([, v]) => v.ocs)
      .map(
        ([k, v]) =>
          `| ${k} | ${fmt(v.ocs.rps, 0)} (${v.ocs.p99}) | ${fmt(v.moto.rps, 0)} (${v.moto.p99}) | ${fmt(v.ratio, 2)} |`,
      ),
    `| stop/start one, sequential cycles/s | ${fmt(b.moto?.["stop/start one"]?.ocsCyclesPerSecond)} | ${fmt(b.moto?.["stop/start one"]?.motoCyclesPerSecond)} | ${fmt(b.moto?.["stop/start one"]?.ratio, 2)} |`,
    "",
    "moto flips an instance's state inside the request; an opencompshare cycle also waits for the worker",
    "to finish each transition (Stop, then poll Describe until Stopped, Start, poll until Running).",
    "",
    "## 6. Monitoring collector",
    "",
    `- sim, ${b.monitor?.sim?.instances} running instances: one tick p50 **${fmt(b.monitor?.sim?.tickP50Ms)} ms**, p99 ${fmt(b.monitor?.sim?.tickP99Ms)} ms, ${fmt(b.monitor?.sim?.cpuMsPerTick)} ms CPU (${fmt(b.monitor?.sim?.samplesPerSecond, 0)} samples/s; ~${fmt(b.monitor?.sim?.bytesPerSample, 0)} B per sample on disk)`,
    `- Describe page of 100, p50: ${fmt(b.monitor?.sim?.describePage100P50MsBefore)} ms with no samples, ${fmt(b.monitor?.sim?.describePage100P50MsAfter)} ms with ${b.monitor?.sim?.ticks} ticks stored (its MonitorMessages read the newest)`,
    b.monitor?.docker
      ? `- docker, ${b.monitor.docker.containers} containers: first tick ${fmt(b.monitor.docker.firstTickMs)} ms, then p50 **${fmt(b.monitor.docker.tickP50Ms)} ms** of wall time per tick (p99 ${fmt(b.monitor.docker.tickP99Ms)} ms; the Engine answers a stats request at its next 1 s collection, containers are read in parallel), **${fmt(b.monitor.docker.cpuMsPerTick)} ms** of ocs CPU per tick`
      : "- docker: not measured (no engine)",
    "",
    "## 7. Kubernetes driver",
    "",
    b.kubernetes?.lifecycle
      ? `- test control plane, two kwok nodes × 8 GPUs (no containers run): ${b.kubernetes.lifecycle.instances} one-GPU creates to Running **${fmt(b.kubernetes.lifecycle.createMs, 0)} ms**, stops to Stopped ${fmt(b.kubernetes.lifecycle.stopMs, 0)} ms, starts to Running ${fmt(b.kubernetes.lifecycle.startMs, 0)} ms`
      : "- lifecycle: not measured (no control plane)",
    `- fleet sync of ${b.kubernetes?.fleet?.nodes} nodes into the hosts (one transaction): first ${fmt(b.kubernetes?.fleet?.firstMs, 0)} ms, a change **${fmt(b.kubernetes?.fleet?.changeP50Ms)} ms** p50`,
    "",
  ];
  return lines.join("\n");
}

const benches = [
  ["describe", describeBench],
  ["lifecycle", lifecycleBench],
  ["scheduler", schedulerBench],
  ["scale", scaleBench],
  ["moto", motoBench],
  ["monitor", () => monitorBench(log)],
  ["kubernetes", () => kubernetesBench(log)],
];
log(`machine: ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}`);
for (const [name, fn] of benches) if (want(name)) results.benches[name] = await fn();
// Only a full run replaces the recorded results; a partial run (node bench/run.mjs describe) just prints.
if (only.length === 0) {
  writeFileSync(join(here, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(here, "RESULTS.md"), renderMarkdown(results));
}
log(
  only.length === 0
    ? "\nwrote bench/results.json and bench/RESULTS.md"
    : `\npartial run (${only.join(", ")}): recorded results unchanged`,
);
