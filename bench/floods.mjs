// `node bench/floods.mjs` (after `npm run build`): what the floods of issue 16 cost a server. A
// normal GetProjectList on one connection, alone and while four clients flood the same server
// with each of: bad signatures, 120,000 empty parameters (~790 KB), JSON nested 300,000 levels
// (an oversized Content-Length cannot be sent with autocannon, which sets it itself; the suite
// covers it in test/security-limits.test.ts). Prints req/s of each flood and the normal call's p50/p99; the
// figures compare within this run only. Writes bench/floods.json.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { signedForm } from "../dist/src/protocol/encode.js";
import { ROOT, body, fmt, machine, startProcess, tmp } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const log = (s) => process.stdout.write(`${s}\n`);
const DURATION = 5;

const FLOODS = {
  "bad signature": {
    contentType: "application/x-www-form-urlencoded",
    body: signedForm({ Action: "GetProjectList" }, ROOT.publicKey, "wrong-private-key").toString(),
  },
  "120k empty params": { contentType: "application/x-www-form-urlencoded", body: "&".repeat(120_000) },
  "JSON nested 300k": {
    contentType: "application/json",
    body: `{"Action":"GetProjectList","X":${"[".repeat(300_000)}${"]".repeat(300_000)}}`,
  },
};

function cannon(url, opts) {
  return autocannon({ url, method: "POST", duration: DURATION, ...opts });
}

async function normal(url) {
  const r = await cannon(url, {
    connections: 1,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: body("GetProjectList"),
  });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average };
}

const results = { machine: machine(), date: new Date().toISOString(), floods: {} };
// The failed-authentication throttle is part of what is measured for bad signatures: a burst of
// 20, then refused before the key lookup.
const p = await startProcess({ OCS_DATA_DIR: tmp("floods"), OCS_SIM_LATENCY_MS: "0" });
try {
  const quiet = await normal(p.url);
  results.quiet = quiet;
  log(`GetProjectList alone (1 conn): p50 ${quiet.p50} ms p99 ${quiet.p99} ms, ${fmt(quiet.rps, 0)} req/s`);
  for (const [name, f] of Object.entries(FLOODS)) {
    const flood = cannon(p.url, {
      connections: 4,
      headers: { "Content-Type": f.contentType },
      body: f.body,
    });
    const during = await normal(p.url);
    const r = await flood;
    results.floods[name] = { floodRps: r.requests.average, normal: during };
    log(
      `${name.padEnd(18)} 4 flooding conns ${fmt(r.requests.average, 0).padStart(6)} req/s | GetProjectList meanwhile p50 ${during.p50} ms p99 ${during.p99} ms`,
    );
  }
} finally {
  await p.kill();
}
writeFileSync(join(here, "floods.json"), `${JSON.stringify(results, null, 2)}\n`);
