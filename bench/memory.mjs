// `node bench/memory.mjs [instances]`: the server's memory phase by phase through the scale
// benchmark's loads (SQLite, 1,000,000 instances by default), with V8's collections counted per
// phase. The scale benchmark reads RSS once, right after its loads, and that reading swings between
// runs of the same code (183–308 MB at 1M on 2026-12-07): this shows where and why. Extra V8 flags
// for the server go in OCS_MEMORY_NODE_ARGS (for example --max-semi-space-size=64).
import { readFileSync } from "node:fs";
import { BENCH_ACCOUNT, CREATE, body, catalogFile, load, seed, startProcess, stores, tmp } from "./lib.mjs";

const n = Number(process.argv[2] ?? 1_000_000);
const [store] = await stores("sqlite");
const dir = tmp("memory");
const cat = catalogFile(dir, 128);
const env = await store.fresh();
await seed(dir, cat, n, { env, account: BENCH_ACCOUNT });
const extra = (process.env.OCS_MEMORY_NODE_ARGS ?? "").split(" ").filter(Boolean);
const p = await startProcess(
  { OCS_DATA_DIR: dir, OCS_CATALOG: cat, OCS_SIM_LATENCY_MS: "0", OCS_ACCOUNT_RATE: "0", ...env },
  ["--trace-gc-nvp", ...extra],
);

// --trace-gc-nvp writes one line per collection: its kind (s: scavenge, mc/ms: major) and bytes promoted.
let gcs = { scavenges: 0, major: 0, promoted: 0 };
p.child.stdout?.on("data", (d) => {
  for (const line of String(d).split("\n")) {
    const kind = /\bgc=(\w+)/.exec(line)?.[1];
    if (!kind) continue;
    if (kind === "s") gcs.scavenges++;
    else if (kind === "mc" || kind === "ms") gcs.major++;
    gcs.promoted += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? 0);
  }
});
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;
const phase = (label) => {
  const s = readFileSync(`/proc/${p.child.pid}/smaps_rollup`, "utf8");
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? 0);
  process.stdout.write(
    `${label.padEnd(30)} RSS ${mb(kb("Rss"))} (anonymous ${mb(kb("Anonymous"))}); collections: ${gcs.scavenges} scavenges, ${gcs.major} major, ${(gcs.promoted / 2 ** 20).toFixed(1)} MB promoted\n`,
  );
  gcs = { scavenges: 0, major: 0, promoted: 0 };
};

const keys = BENCH_ACCOUNT.keys;
const describe = (params) => body("DescribeCompShareInstance", params, keys);
try {
  phase("after start");
  const id = `uhost-b${String(Math.floor(n / 2)).padStart(7, "0")}`;
  await load(p.url, describe({ UHostIds: [id] }), { connections: 1 });
  phase("by id, 1 connection");
  await load(p.url, describe({ Limit: 100 }), { connections: 1 });
  phase("page of 100, 1 connection");
  await load(p.url, describe({ Limit: 100, Offset: n - 100 }), { connections: 1 });
  phase("last page, 1 connection");
  await load(p.url, describe({ Limit: 100 }), { connections: 32 });
  phase("page of 100, 32 connections");
  const create = body("CreateCompShareInstance", CREATE, keys);
  await load(p.url, create, { connections: 1, amount: 300, duration: 60 });
  phase("300 creates, 1 connection");
  await load(p.url, create, { connections: 8, amount: 500, duration: 60 });
  phase("500 creates, 8 connections");
} finally {
  await p.kill();
}
