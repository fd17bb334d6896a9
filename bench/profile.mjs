// `node bench/profile.mjs [scenario] [instances]`: where a request spends its time. Seeds the store
// directly, starts `ocs serve` under `node --cpu-prof`, drives one scenario for a few seconds and
// prints the top self-time functions and files of the server's profile (bench/RESULTS.md quotes
// them). Scenarios: one (Describe by id), page (page of 100), deep (page of 100 at the last
// offset), create, sched (every instance's scheduled stop due at once, until all stopped); all (one,
// page, deep, create on one seeded store, written to bench/profile.json).
// OCS_BENCH_STORE=postgres profiles against a throwaway PostgreSQL.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CREATE, body, catalogFile, load, seed, startProcess, storeCounter, tmp, withStore } from "./lib.mjs";

const scenario = process.argv[2] ?? "page";
const n = Number(process.argv[3] ?? 100_000);
const log = (s) => process.stdout.write(`${s}\n`);

const requests = {
  one: () =>
    body("DescribeCompShareInstance", { UHostIds: [`uhost-b${String(Math.floor(n / 2)).padStart(7, "0")}`] }),
  page: () => body("DescribeCompShareInstance", { Limit: 100 }),
  deep: () => body("DescribeCompShareInstance", { Limit: 100, Offset: n - 100 }),
  sched: () => "",
  create: () => body("CreateCompShareInstance", CREATE),
};

/** Self time per function and per file, from a V8 .cpuprofile. */
export function summarize(profile, top = 15) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const fn = new Map();
  const file = new Map();
  for (const [id, us] of self) {
    const { callFrame: c } = byId.get(id);
    const where = c.url ? c.url.replace(/^.*\/(dist|node_modules)\//, "$1/") : "(native)";
    const name = `${c.functionName || "(anonymous)"} ${where}${c.url ? `:${c.lineNumber + 1}` : ""}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    const f = c.url ? where : c.functionName || "(native)";
    file.set(f, (file.get(f) ?? 0) + us);
  }
  const rank = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ what: k, pct: Math.round((1000 * us) / total) / 10 }));
  return { functions: rank(fn), files: rank(file) };
}

const LABELS = {
  one: "Describe by one UHostId, 4 connections",
  page: "Describe page of 100, 4 connections",
  deep: "Describe page of 100 at the last offset, 4 connections",
  create: "Create, 8 connections",
  sched: "every instance's scheduled stop due at once",
};

/** Starts a server under --cpu-prof on the seeded store, drives `name`, and summarises its profile. */
async function profileOne(dir, cat, storeEnv, name, due) {
  const profDir = join(dir, `prof-${name}`);
  const p = await startProcess(
    { OCS_DATA_DIR: dir, OCS_CATALOG: cat, OCS_SIM_LATENCY_MS: "0", ...storeEnv },
    ["--cpu-prof", `--cpu-prof-dir=${profDir}`],
  );
  let r;
  try {
    if (name === "sched") {
      const counter = await storeCounter(dir, storeEnv);
      const t1 = Date.now();
      await p.call("EmulatorAdvanceClock", { Seconds: Math.ceil((due - Date.now()) / 1000) + 1 });
      let stopped = 0;
      while (stopped < n && Date.now() - t1 < 120_000) {
        await new Promise((res) => setTimeout(res, 200));
        stopped = await counter.count("SELECT COUNT(*) AS n FROM instances WHERE state = 'Stopped'");
      }
      await counter.close();
      r = { rps: stopped / ((Date.now() - t1) / 1000), p50: "-", p99: "-" };
    } else {
      r = await load(p.url, requests[name](), {
        connections: name === "create" ? 8 : 4,
        duration: 8,
        amount: name === "create" ? 1000 : undefined,
      });
    }
  } finally {
    await p.kill();
  }
  const file = readdirSync(profDir).find((f) => f.endsWith(".cpuprofile"));
  // OCS_PROFILE_KEEP=dir keeps the raw profile (for Chrome DevTools or an inclusive-time reading).
  if (process.env.OCS_PROFILE_KEEP)
    copyFileSync(join(profDir, file), join(process.env.OCS_PROFILE_KEEP, `${name}.cpuprofile`));
  const s = summarize(JSON.parse(readFileSync(join(profDir, file), "utf8")));
  log(
    `${name} at ${n} instances: ${r.rps.toFixed(0)} ${name === "sched" ? "stops" : "req"}/s, p50 ${r.p50} ms, p99 ${r.p99} ms`,
  );
  log("\ntop self time, by function:");
  for (const x of s.functions) log(`${String(x.pct).padStart(5)}%  ${x.what}`);
  log("\ntop self time, by file:");
  for (const x of s.files) log(`${String(x.pct).padStart(5)}%  ${x.what}`);
  return { label: LABELS[name], rps: r.rps, p50: r.p50, p99: r.p99, ...s };
}

// `all` profiles one, page, deep and create on one seeded store (create last: it adds instances)
// and writes bench/profile.json (OCS_PROFILE_OUT names another file), which RESULTS.md quotes.
async function main() {
  const names = scenario === "all" ? ["one", "page", "deep", "create"] : [scenario];
  for (const x of names)
    if (!requests[x]) throw new Error(`unknown scenario ${x}; one of all,${Object.keys(requests)}`);
  await withStore(async (storeEnv) => {
    const dir = tmp("profile");
    const cat = catalogFile(dir, 200);
    const t0 = Date.now();
    const due = Date.now() + 3_600_000;
    await seed(dir, cat, n, { env: storeEnv, stopAt: scenario === "sched" ? due : undefined });
    log(`seeded ${n} instances in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const scenarios = {};
    for (const x of names) scenarios[x] = await profileOne(dir, cat, storeEnv, x, due);
    if (scenario === "all" || process.env.OCS_PROFILE_OUT) {
      const out =
        process.env.OCS_PROFILE_OUT ?? join(dirname(fileURLToPath(import.meta.url)), "profile.json");
      const note = `${n.toLocaleString("en")} instances, ${process.env.OCS_BENCH_STORE === "postgres" ? "PostgreSQL" : "SQLite"}, commit ${commitOf()}, ${new Date().toISOString().slice(0, 10)}; each scenario 8 s under \`node --cpu-prof\` (self time).`;
      writeFileSync(out, `${JSON.stringify({ note, scenarios }, null, 2)}\n`);
      log(`wrote ${out}`);
    }
  });
}

function commitOf() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return "?";
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
