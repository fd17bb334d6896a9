// 6. The monitoring collector's cost (issue #15): one tick over many running instances on the sim
// driver (driver readings + one transaction of samples + the retention prune), what it adds to a
// Describe page, and on the real Docker Engine one tick over real containers (stats API per
// container, one /system/df, one nvidia-smi stand-in).
import { spawnSync } from "node:child_process";
import { chmodSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dispatch } from "../dist/src/api/gateway.js";
import { loadConfig } from "../dist/src/config.js";
import { DockerDriver } from "../dist/src/drivers/docker/docker-driver.js";
import { silentLogger } from "../dist/src/log.js";
import { signedForm } from "../dist/src/protocol/encode.js";
import { encodeJson } from "../dist/src/protocol/json.js";
import { createServer } from "../dist/src/server.js";
import { ROOT, catalogFile, fmt, seed, tmp } from "./lib.mjs";

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function simTicks(log, n, ticks) {
  const dir = tmp("monitor");
  const cat = catalogFile(dir, Math.ceil(n / 8));
  await seed(dir, cat, n, { running: true });
  const config = loadConfig(
    {
      OCS_DATA_DIR: dir,
      OCS_CATALOG: cat,
      OCS_ROOT_PUBLIC_KEY: ROOT.publicKey,
      OCS_ROOT_PRIVATE_KEY: ROOT.privateKey,
      OCS_SIM_LATENCY_MS: "0",
    },
    dir,
  );
  // The worker is not started: the ticks are driven here, one at a time.
  const server = await createServer(config, { log: silentLogger });
  const { monitor } = server.services;
  const { driver, clock } = server.internals;
  const describe = async () => {
    const b = signedForm(
      { Action: "DescribeCompShareInstance", Region: "cn-wlcb", Limit: 100 },
      ROOT.publicKey,
      ROOT.privateKey,
    );
    const call = (requestId) =>
      dispatch(
        server.gateway,
        requestId,
        "POST",
        "",
        Buffer.from(b.toString()),
        "application/x-www-form-urlencoded",
      );
    const times = [];
    for (let i = 0; i < 10; i++) await call("warm");
    // With the response's encoding, which renders what Describe did not keep rendered.
    for (let i = 0; i < 30; i++) times.push(await timed(async () => encodeJson((await call("bench")).body)));
    return pct(times, 50);
  };
  try {
    const describeBefore = await describe();
    const db = join(dir, "ocs.sqlite");
    const sizeBefore = statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    const times = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < ticks; i++) {
      times.push(await timed(() => monitor.collect(driver)));
      clock.advance(monitor.options.intervalMs);
    }
    const cpu = process.cpuUsage(cpu0);
    const sizeAfter = statSync(db).size + (statSync(`${db}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    const describeAfter = await describe();
    const out = {
      instances: n,
      ticks,
      tickP50Ms: pct(times, 50),
      tickP99Ms: pct(times, 99),
      samplesPerSecond: (n * ticks) / (times.reduce((a, b) => a + b, 0) / 1000),
      bytesPerSample: (sizeAfter - sizeBefore) / (n * ticks),
      cpuMsPerTick: (cpu.user + cpu.system) / 1000 / ticks,
      describePage100P50MsBefore: describeBefore,
      describePage100P50MsAfter: describeAfter,
    };
    log(
      `sim, ${n} running: tick p50 ${fmt(out.tickP50Ms)} ms p99 ${fmt(out.tickP99Ms)} ms, ${fmt(out.cpuMsPerTick)} ms CPU (${fmt(out.samplesPerSecond, 0)} samples/s, ~${fmt(out.bytesPerSample, 0)} B/sample on disk); Describe page of 100 p50 ${fmt(describeBefore)} → ${fmt(describeAfter)} ms with ${ticks} ticks stored`,
    );
    return out;
  } finally {
    await server.close();
  }
}

async function dockerTicks(log, containers, ticks) {
  const image = "local/busybox:4";
  if (spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status !== 0) {
    log(`docker: skipped (no engine or no ${image}; npm test's setup makes both)`);
    return undefined;
  }
  const dir = tmp("monitor-docker");
  const smi = join(dir, "nvidia-smi");
  writeFileSync(
    smi,
    `#!/bin/sh\nfor i in $(seq 0 7); do echo "$i, GPU-bench-$i, 00000000:1$i:00.0, 50, 1000, 80000"; done\n`,
  );
  chmodSync(smi, 0o755);
  const d = new DockerDriver({
    storeId: `bench-${process.pid}`,
    socketPath: "/var/run/docker.sock",
    gpuMode: "none",
    inventory: [],
    files: {},
    hostIp: "127.0.0.1",
    network: "none",
    nvidiaSmi: smi,
  });
  const ids = Array.from({ length: containers }, (_, i) => `uhost-bmon${String(i).padStart(4, "0")}`);
  const spec = (id) => ({
    id,
    image,
    imageId: "x",
    cpu: 1,
    memoryMB: 256,
    hostId: "h",
    dataDisks: [],
    password: "",
  });
  try {
    for (const id of ids) {
      await d.create(spec(id));
      await d.start(spec(id), []);
    }
    const targets = ids.map((id, i) => ({
      id,
      hostId: "h",
      gpus: [i % 8],
      cpu: 1,
      memoryMB: 256,
      bootGB: 20,
      dataDisks: [],
    }));
    const first = await timed(() => d.sample(targets));
    const times = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < ticks; i++) times.push(await timed(() => d.sample(targets)));
    const cpu = process.cpuUsage(cpu0);
    const out = {
      containers,
      firstTickMs: first,
      tickP50Ms: pct(times, 50),
      tickP99Ms: pct(times, 99),
      cpuMsPerTick: (cpu.user + cpu.system) / 1000 / ticks,
    };
    log(
      `docker, ${containers} containers: first tick ${fmt(first)} ms, then p50 ${fmt(out.tickP50Ms)} ms p99 ${fmt(out.tickP99Ms)} ms of wall time per tick (the Engine answers a stats request at its next 1 s collection; containers are read in parallel), ${fmt(out.cpuMsPerTick)} ms of ocs CPU per tick`,
    );
    return out;
  } finally {
    for (const id of ids) await d.destroy(id, { releaseDataDisks: true, dataDiskIds: [] }).catch(() => {});
  }
}

export async function monitorBench(log) {
  log("\n== 6. Monitoring collector cost");
  return {
    sim: await simTicks(log, 1000, 30),
    docker: await dockerTicks(log, 20, 10),
  };
}
