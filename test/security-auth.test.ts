import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../src/log.js";
import { signedForm } from "../src/protocol/encode.js";
import type { TestServer } from "./helpers.js";
import { ROOT, createParams, startTestServer } from "./helpers.js";

/**
 * Throttling and the audit trail (issue 16), over HTTP from 127.0.0.1. The floods are a few dozen
 * requests: the buckets are configured small so that the limits show at once.
 */
let t: TestServer;
const lines: Array<Record<string, unknown>> = [];
before(async () => {
  t = await startTestServer(
    {
      OCS_AUTH_FAILURE_BURST: "5",
      OCS_AUTH_FAILURES_PER_MINUTE: "1",
      OCS_ACCOUNT_RATE: "1",
      OCS_ACCOUNT_BURST: "3",
    },
    { log: createLogger({ level: "info", write: (l) => lines.push(JSON.parse(l)) }) },
  );
});
after(async () => {
  await t.close();
});

async function postFrom(forwardedFor: string | undefined, body: URLSearchParams) {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (forwardedFor) headers["X-Forwarded-For"] = forwardedFor;
  const res = await fetch(t.url, { method: "POST", headers, body });
  return (await res.json()) as Record<string, unknown>;
}

describe("failed authentications", () => {
  it("are throttled per client address with the RetCode the SDKs retry (8153), before the key lookup", async () => {
    const bad = signedForm({ Action: "GetProjectList" }, ROOT.publicKey, "not-the-private-key");
    const codes: number[] = [];
    for (let i = 0; i < 25; i++) codes.push(Number((await postFrom(undefined, bad)).RetCode));
    // A bucket of 5: five signature errors, then throttled (main answered all 25 with 171).
    assert.deepEqual(codes.slice(0, 5), [171, 171, 171, 171, 171]);
    assert.deepEqual(new Set(codes.slice(5)), new Set([8153]));
    // While the bucket is empty even a correct signature from that address waits: a guess that
    // happens to be right is not told apart from a wrong one.
    const good = await t.call("GetProjectList");
    assert.equal(good.RetCode, 8153);
    assert.match(
      String(good.Message),
      /Request throttled: too many failed authentications from 127\.0\.0\.1; retry in \d+ s/,
    );
    const m = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(m, /ocs_throttled_total\{reason="auth_failures"\} 21/);
  });

  it("are each audited and logged (time, key, client address, Action, RetCode, request id)", async () => {
    // A fresh server: the address of this test process is throttled on the other one.
    const s = await startTestServer({ OCS_AUTH_FAILURE_BURST: "3" }, {}, { http: false });
    try {
      const unknown = { publicKey: "nobody-at-all", privateKey: "x" };
      assert.equal((await s.call("GetProjectList", {}, unknown)).RetCode, 172);
      assert.equal(
        (await s.call("StopCompShareInstance", {}, { ...ROOT, privateKey: "wrong" })).RetCode,
        171,
      );
      const entries = (await s.call("DescribeAuditLog", { Kind: "auth-failure" })).AuditSet as Array<
        Record<string, unknown>
      >;
      assert.equal(entries.length, 2);
      const [sig, user] = entries;
      assert.equal(sig?.AuditAction, "StopCompShareInstance");
      assert.equal(sig?.RetCode, 171);
      assert.equal(sig?.PublicKey, ROOT.publicKey);
      assert.match(String(sig?.AccountId), /^acc-/);
      assert.equal(user?.RetCode, 172);
      assert.equal(user?.PublicKey, "nobody-at-all");
      assert.equal(user?.AccountId, "");
      assert.equal(user?.ClientAddress, "local");
      assert.match(String(user?.RequestId), /^[0-9a-f-]{36}$/);
      assert.ok(Number(user?.Time) > 1_700_000_000);
    } finally {
      await s.close();
    }
    assert.ok(
      lines.some((l) => l.msg === "authentication failed" && l.client === "127.0.0.1" && l.retCode === 171),
      "a log line per failed authentication",
    );
  });

  it("OCS_TRUST_PROXY=true takes the client address from the last X-Forwarded-For entry", async () => {
    const s = await startTestServer({ OCS_TRUST_PROXY: "true", OCS_AUTH_FAILURE_BURST: "2" });
    try {
      const bad = signedForm({ Action: "GetProjectList" }, ROOT.publicKey, "wrong");
      const from = async (xff: string) => {
        const res = await fetch(s.url, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": xff },
          body: bad,
        });
        return Number(((await res.json()) as { RetCode: number }).RetCode);
      };
      assert.deepEqual(
        [await from("9.9.9.9, 10.0.0.1"), await from("10.0.0.1"), await from("10.0.0.1")],
        [171, 171, 8153],
      );
      // Another client behind the same proxy has its own bucket.
      assert.equal(await from("10.0.0.2"), 171);
      const entries = (await s.call("DescribeAuditLog", { Kind: "auth-failure" })).AuditSet as Array<
        Record<string, unknown>
      >;
      assert.deepEqual(
        entries.map((e) => e.ClientAddress),
        ["10.0.0.2", "10.0.0.1", "10.0.0.1"],
      );
    } finally {
      await s.close();
    }
  });
});

describe("per-account request rate", () => {
  it("an account over its rate gets 8153; root is not limited", async () => {
    const s = await startTestServer({ OCS_ACCOUNT_RATE: "1", OCS_ACCOUNT_BURST: "3" }, {}, { http: false });
    try {
      const acct = await s.server.services.accounts.createAccount("busy");
      const codes: number[] = [];
      for (let i = 0; i < 6; i++)
        codes.push(Number((await s.call("GetProjectList", {}, acct.keyPair)).RetCode));
      assert.deepEqual(codes.slice(0, 3), [0, 0, 0]);
      assert.ok(codes.slice(3).includes(8153), JSON.stringify(codes));
      const throttled = await s.call("GetProjectList", {}, acct.keyPair);
      assert.match(String(throttled.Message), /account acc-\w+ is over its request rate/);
      for (let i = 0; i < 10; i++) assert.equal((await s.call("GetProjectList")).RetCode, 0);
    } finally {
      await s.close();
    }
  });
});

describe("audit log", () => {
  it("records every mutating call (success and refusal) with account, key, client address and resource ids; reads are not", async () => {
    const s = await startTestServer({}, {}, { http: true });
    try {
      const created = await s.call("CreateCompShareInstance", createParams());
      const id = (created.UHostIds as string[])[0] as string;
      await s.waitState(id, "Running");
      assert.equal(
        (
          await s.call("StopCompShareInstance", {
            Region: "cn-wlcb",
            Zone: "cn-wlcb-01",
            UHostId: "uhost-nope",
          })
        ).RetCode,
        8039,
      );
      await s.call("DescribeCompShareInstance", { Region: "cn-wlcb" });
      const entries = (await s.call("DescribeAuditLog", { Kind: "call" })).AuditSet as Array<
        Record<string, unknown>
      >;
      assert.deepEqual(
        entries.map((e) => [e.AuditAction, e.RetCode]),
        [
          ["StopCompShareInstance", 8039],
          ["CreateCompShareInstance", 0],
        ],
      );
      const [stop, create] = entries;
      // The instance it made and the image it named.
      assert.deepEqual(create?.ResourceIds, ["compshareImage-ubuntu2204", id]);
      assert.deepEqual(stop?.ResourceIds, ["uhost-nope"]);
      assert.match(String(stop?.Message), /not found/);
      assert.equal(create?.ClientAddress, "127.0.0.1");
      assert.equal(create?.PublicKey, ROOT.publicKey);
      // Filters: by resource id and by Action.
      const byId = (await s.call("DescribeAuditLog", { ResourceId: id })).AuditSet as unknown[];
      assert.equal(byId.length, 1);
      const byAction = await s.call("DescribeAuditLog", { AuditAction: "StopCompShareInstance" });
      assert.equal(byAction.TotalCount, 1);
      // Root only, like the emulator controls.
      const other = await s.server.services.accounts.createAccount("auditor");
      assert.equal((await s.call("DescribeAuditLog", {}, other.keyPair)).RetCode, 299);
    } finally {
      await s.close();
    }
  });

  it("success log lines carry the client address and the resource ids", async () => {
    const own: Array<Record<string, unknown>> = [];
    const s = await startTestServer(
      {},
      { log: createLogger({ level: "info", write: (l) => own.push(JSON.parse(l)) }) },
    );
    try {
      await s.call("ModifyCompShareInstanceName", {
        Region: "cn-wlcb",
        Zone: "cn-wlcb-01",
        UHostId: "uhost-none",
        Name: "n",
      });
      await s.call("GetProjectList");
      const ok = own.find((l) => l.msg === "ok" && l.action === "GetProjectList");
      assert.equal(ok?.client, "127.0.0.1");
      assert.ok(Array.isArray(ok?.resourceIds));
      const refused = own.find((l) => l.msg === "refused" && l.action === "ModifyCompShareInstanceName");
      assert.equal(refused?.client, "127.0.0.1");
      assert.deepEqual(refused?.resourceIds, ["uhost-none"]);
      assert.equal(refused?.retCode, 8039);
    } finally {
      await s.close();
    }
  });

  it("entries older than OCS_AUDIT_RETENTION_DAYS are removed by the retention task", async () => {
    const s = await startTestServer({ OCS_AUDIT_RETENTION_DAYS: "1" }, {}, { http: false });
    try {
      await s.call("ModifyCompShareInstanceName", {
        Region: "cn-wlcb",
        Zone: "cn-wlcb-01",
        UHostId: "uhost-x",
        Name: "n",
      });
      const before = await s.call("DescribeAuditLog", {});
      assert.equal(before.TotalCount, 1);
      // Two days later the hourly retention task has run and the entry is gone.
      await s.call("EmulatorAdvanceClock", { Seconds: 2 * 86_400 });
      await s.server.internals.worker.drain();
      const afterwards = await s.call("DescribeAuditLog", {});
      // What is left is the clock advance itself (a mutating emulator call, made after the entry).
      assert.deepEqual(
        (afterwards.AuditSet as Array<Record<string, unknown>>).map((e) => e.AuditAction),
        ["EmulatorAdvanceClock"],
      );
      const tasks = await s.server.internals.db.all(
        "SELECT kind, due_at FROM tasks WHERE kind = 'audit-retention'",
      );
      assert.equal(tasks.length, 1, "the retention task stays queued for its next run");
    } finally {
      await s.close();
    }
  });
});
