import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { ACTIONS } from "../src/actions/registry.js";
import type { Field } from "../src/protocol/schema.js";
import { computeSignature } from "../src/protocol/signature.js";
import type { TestServer } from "./helpers.js";
import { ROOT, createParams, startTestServer } from "./helpers.js";

/**
 * Property-based fuzzing of every Action with a fixed seed and a bounded count: random and
 * malformed parameters, encodings and signatures. Every answer must be HTTP 200 with a JSON
 * envelope, every error a RetCode and a Message, and a rejected request must leave the store as it was.
 * The worker is stopped so that only the request itself can change the store.
 */
let t: TestServer;
before(async () => {
  // Broken signatures are part of the fuzz: without a large failed-authentication bucket the
  // throttle (tested in security-auth.test.ts) would answer most of the run with 8153.
  t = await startTestServer({ OCS_AUTH_FAILURE_BURST: "1000000" });
  // A few instances so ids in the fuzz can hit real rows.
  for (let i = 0; i < 3; i++) await t.call("CreateCompShareInstance", createParams());
  await t.server.internals.worker.drain();
  await t.server.internals.worker.stop();
});
after(async () => {
  await t.close();
});

async function snapshot(): Promise<string> {
  const db = t.server.internals.db;
  const parts = await Promise.all([
    db.all("SELECT * FROM instances ORDER BY id"),
    db.all("SELECT * FROM disks ORDER BY id"),
    // The monitoring collector's recurring row moves on its own (an EmulatorReset restarts the
    // worker): background activity, not a change a request made.
    db.all("SELECT id, kind, instance_id, due_at FROM tasks WHERE kind <> 'monitor-sample' ORDER BY id"),
    db.all("SELECT * FROM host_gpus ORDER BY host_id, gpu_index"),
    db.all("SELECT * FROM hosts ORDER BY id"),
    db.all("SELECT * FROM projects ORDER BY id"),
  ]);
  return createHash("sha1").update(JSON.stringify(parts)).digest("hex");
}

async function post(body: string | Uint8Array, contentType: string, query = "") {
  const res = await fetch(`${t.url}/${query ? `?${query}` : ""}`, {
    method: "POST",
    headers: { "Content-Type": contentType },
    body,
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  const json = JSON.parse(text) as Record<string, unknown>;
  assert.equal(typeof json.Action, "string");
  assert.equal(typeof json.RetCode, "number");
  if (json.RetCode !== 0) {
    assert.equal(typeof json.Message, "string");
    assert.ok((json.Message as string).length > 0);
    assert.notEqual(json.RetCode, 130, `internal error: ${text}`);
  }
  return json;
}

const ids = ["uhost-aaaaaaaa", "cpod-zz", "", "uhost-'; DROP TABLE instances;--", "x".repeat(300)];
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 70000 }).map(String),
  fc.constantFrom(
    "true",
    "false",
    "True",
    "1",
    "-1",
    "1e9",
    "NaN",
    "cn-wlcb",
    "cn-wlcb-01",
    "4090",
    "Stopped",
    ...ids,
  ),
  fc.fullUnicodeString({ maxLength: 6 }),
);

function valueFor(field: Field, depth = 0): fc.Arbitrary<unknown> {
  const random = depth > 1 ? scalar : fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }));
  switch (field.kind) {
    case "int":
    case "float":
      return fc.oneof(fc.integer({ min: -10, max: 300000 }), fc.double({ noNaN: false }), random);
    case "bool":
      return fc.oneof(fc.boolean(), random);
    case "string":
      return field.oneOf ? fc.oneof(fc.constantFrom(...field.oneOf), random) : random;
    case "array":
      return fc.oneof(fc.array(valueFor(field.of, depth + 1), { maxLength: 4 }), random);
    case "object":
      return fc.oneof(
        fc.record(
          Object.fromEntries(Object.entries(field.fields).map(([k, f]) => [k, valueFor(f, depth + 1)])),
          { requiredKeys: [] },
        ),
        random,
      );
  }
}

const actionNames = ACTIONS.map((a) => a.name);

const signedRequest = fc.constantFrom(...ACTIONS).chain((a) =>
  fc.record({
    action: fc.oneof(fc.constant(a.name), fc.constantFrom(...actionNames), fc.string({ maxLength: 10 })),
    params: fc.record(Object.fromEntries(Object.entries(a.schema).map(([k, f]) => [k, valueFor(f)])), {
      requiredKeys: [],
    }),
    extra: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), scalar, { maxKeys: 2 }),
    region: fc.constantFrom(undefined, "cn-wlcb", "cn-bj2", "nowhere"),
    zone: fc.constantFrom(undefined, "cn-wlcb-01", "cn-bj2-02", "z"),
    json: fc.boolean(),
    breakSig: fc.constantFrom("none", "none", "none", "flip", "drop", "key"),
  }),
);

describe("fuzz (fixed seed, bounded)", () => {
  it("signed requests with random parameters: no 5xx, a RetCode+Message on every error, rejected ones change nothing", async () => {
    let before = await snapshot();
    let accepted = 0;
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(signedRequest, async (r) => {
        const params: Record<string, unknown> = {
          Action: r.action,
          ...r.extra,
          ...r.params,
          PublicKey: ROOT.publicKey,
        };
        if (r.region) params.Region = r.region;
        if (r.zone) params.Zone = r.zone;
        for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
        let body: string;
        let ct: string;
        if (r.json) {
          const sig = computeSignature(params as never, r.breakSig === "key" ? "other" : ROOT.privateKey);
          const signed: Record<string, unknown> = {
            ...params,
            Signature: r.breakSig === "flip" ? sig.replace(/./, "f") : sig,
          };
          if (r.breakSig === "drop") delete signed.Signature;
          body = JSON.stringify(signed);
          ct = "application/json";
        } else {
          const flat: Record<string, string> = {};
          const put = (k: string, v: unknown) => {
            if (Array.isArray(v)) v.forEach((x, i) => put(`${k}.${i}`, x));
            else if (v !== null && typeof v === "object")
              for (const [kk, vv] of Object.entries(v)) put(`${k}.${kk}`, vv);
            else if (v !== undefined) flat[k] = String(v);
          };
          for (const [k, v] of Object.entries(params)) put(k, v);
          const sig = computeSignature(flat, r.breakSig === "key" ? "other" : ROOT.privateKey);
          if (r.breakSig !== "drop") flat.Signature = r.breakSig === "flip" ? sig.replace(/./, "f") : sig;
          body = new URLSearchParams(flat).toString();
          ct = "application/x-www-form-urlencoded";
        }
        const json = await post(body, ct);
        codes.set(Number(json.RetCode), (codes.get(Number(json.RetCode)) ?? 0) + 1);
        // An accepted EmulatorReset starts the worker again: stopped before the snapshot, so a timer
        // it would run later (after a fuzzed EmulatorAdvanceClock) cannot pass for a request's doing.
        if (json.RetCode === 0 && json.Action === "EmulatorResetResponse")
          await t.server.internals.worker.stop();
        const after = await snapshot();
        if (json.RetCode === 0) {
          accepted++;
          before = after;
        } else {
          assert.equal(
            after,
            before,
            `rejected request changed the store: ${body.slice(0, 300)} → ${JSON.stringify(json)}`,
          );
        }
      }),
      { seed: 20261123, numRuns: 1500 },
    );
    assert.ok(accepted > 0, "some fuzzed requests must be valid, or the fuzz only tests the first check");
    // The fuzz must get past authentication into parameter validation and the domain, not stop at the door.
    for (const code of [0, 161, 170, 171, 210, 230])
      assert.ok(
        (codes.get(code) ?? 0) > 0,
        `no request ended with RetCode ${code}: ${JSON.stringify([...codes])}`,
      );
    process.stdout.write(`# fuzz RetCodes: ${JSON.stringify(Object.fromEntries(codes))}\n`);
  });

  it("raw garbage: bodies, content types, query strings", async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
        ),
        fc.constantFrom(
          "application/x-www-form-urlencoded",
          "application/json",
          "text/plain",
          "application/json; charset=gbk",
          "",
          "multipart/form-data",
        ),
        fc.oneof(
          fc.constant(""),
          fc.string({ maxLength: 40 }),
          fc.constant("Action=GetProjectList&Action=GetRegion"),
          fc.constant("Action=%ZZ"),
        ),
        async (body, ct, query) => {
          await post(body, ct || "application/octet-stream", encodeURI(query).replace(/#/g, "%23"));
        },
      ),
      { seed: 42, numRuns: 800 },
    );
    assert.equal(await snapshot(), before);
  });

  it("nested JSON of any depth and shape: 230 naming the nesting, never 130 or a stack overflow", async () => {
    const before = await snapshot();
    const opener = fc.constantFrom("[", '{"a":', '{"":', "[[", '[{"x":');
    await fc.assert(
      fc.asyncProperty(
        fc.array(opener, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.boolean(),
        fc.constantFrom("Action", "Disks", "UHostIds", "X"),
        async (openers, repeat, closeIt, key) => {
          const open = openers
            .join("")
            .repeat(Math.ceil(repeat / openers.length))
            .slice(0, 800_000);
          const close = closeIt
            ? [...open]
                .reverse()
                .map((c) => (c === "[" ? "]" : c === "{" ? "}" : ""))
                .join("") // a reversed opener never closes a key, so often invalid too
            : "";
          const body = `{"Action":"GetProjectList","${key}2":${open}1${close}}`;
          const json = await post(body, "application/json");
          // Within the limit the request goes on to authentication (170 here: it is unsigned);
          // past it (8 levels under the body's object) the answer names the nesting.
          const depth = [...open].filter((c) => c === "[" || c === "{").length;
          if (depth > 8) {
            assert.equal(json.RetCode, 230, JSON.stringify(json));
            assert.match(String(json.Message), /nested deeper than 8 levels/);
          } else assert.ok([170, 230].includes(Number(json.RetCode)), JSON.stringify(json));
        },
      ),
      { seed: 16, numRuns: 150 },
    );
    assert.equal(await snapshot(), before);
  });

  it("parameter floods in every encoding: refused as floods (230), the store untouched", async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1900, max: 60_000 }),
        fc.constantFrom("empty", "pairs", "dotted", "json", "query"),
        fc.constantFrom("", "%ZZ", "%C3%28", "&"),
        async (n, shape, tail) => {
          let body = "";
          let ct = "application/x-www-form-urlencoded";
          let query = "";
          switch (shape) {
            case "empty":
              body = "&".repeat(n);
              break;
            case "pairs":
              body = Array.from({ length: n }, (_, i) => `K${i}=v`).join("&");
              break;
            case "dotted":
              body = Array.from({ length: n }, (_, i) => `Disks.${i % 999}.F${i}=1`).join("&");
              break;
            case "json":
              ct = "application/json";
              body = `{${Array.from({ length: n }, (_, i) => `"K${i}":0`).join(",")}}`;
              break;
            case "query":
              // Short names: a request line over Node's 16 KiB header limit is refused by Node (431).
              query = Array.from({ length: Math.min(n, 2100) }, (_, i) => `${i.toString(36)}=1`).join("&");
              break;
          }
          if (ct !== "application/json") body += `&Tail=${tail}`;
          const json = await post(body.slice(0, 1_000_000), ct, query);
          // Every flood over 2000 parameters is refused as a flood, before a malformed tail is
          // reached; smaller ones go on to the next check (a missing Action, a bad escape).
          const count = shape === "query" ? Math.min(n, 2100) : n;
          if (count > 2001) {
            assert.equal(json.RetCode, 230, JSON.stringify(json));
            assert.match(String(json.Message), /more than 2000 parameters/);
          } else assert.ok([160, 230].includes(Number(json.RetCode)), JSON.stringify(json));
        },
      ),
      { seed: 1616, numRuns: 60 },
    );
    assert.equal(await snapshot(), before);
  });
});
