import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import type { TestServer } from "./helpers.js";
import { assertSettled, createParams, createPgDatabase, pgSkip, startTestServer } from "./helpers.js";
import { bigCatalogFile } from "./processes.js";

type Obj = Record<string, unknown>;
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

/** Two servers on one fresh PostgreSQL database (one master key, as replicas share): in-process. */
async function replicas(): Promise<[TestServer, TestServer]> {
  const env = {
    OCS_DATABASE_URL: (await createPgDatabase()) as string,
    OCS_CATALOG: bigCatalogFile(40),
    OCS_MASTER_KEY: randomBytes(32).toString("base64"),
  };
  const a = await startTestServer(env);
  const b = await startTestServer(env);
  return [a, b];
}

async function settle(...ts: TestServer[]): Promise<void> {
  for (let i = 0; i < 3; i++) for (const t of ts) await t.server.internals.worker.drain();
}

/**
 * The instance counts (migration 45) on two replicas of one PostgreSQL: the quota they enforce and
 * the totals Describe shows stay exact while both replicas change the same account at once.
 */
describe("instance counts on two replicas", { ...pgSkip(), timeout: 120_000 }, () => {
  it("race: creates of one account on both replicas never pass its instance quota together", async () => {
    const [a, b] = await replicas();
    try {
      const acct = await a.server.services.accounts.createAccount(`race-${Date.now()}`, {
        instanceQuota: 5,
        gpuQuota: 1000,
      });
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (i % 2 ? a : b).call("CreateCompShareInstance", createParams(), acct.keyPair),
        ),
      );
      const codes = results.map((r) => r.RetCode);
      assert.equal(codes.filter((c) => c === 0).length, 5, JSON.stringify(codes));
      assert.equal(codes.filter((c) => c === 8046).length, 19, JSON.stringify(codes));
      const d = await a.call("DescribeCompShareInstance", { Region: "cn-wlcb" }, acct.keyPair);
      assert.equal(d.TotalCount, 5);
      await settle(a, b);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("race: recovers and creates of one account on both replicas never pass its instance quota together", async () => {
    const [a, b] = await replicas();
    try {
      const acct = await a.server.services.accounts.createAccount(`recover-race-${Date.now()}`, {
        instanceQuota: 16,
        gpuQuota: 1000,
      });
      const keys = acct.keyPair;
      const made = await Promise.all(
        Array.from({ length: 16 }, () => a.call("CreateCompShareInstance", createParams(), keys)),
      );
      const ids = made.map((r) => (r.UHostIds as string[])[0] as string);
      await settle(a, b);
      for (const id of ids)
        assert.equal((await a.call("StopCompShareInstance", { ...Z, UHostId: id }, keys)).RetCode, 0);
      await settle(a, b);
      // Fourteen in the bin, two live, quota six: four slots, raced for by fourteen recovers and
      // eight creates on both replicas.
      for (const id of ids.slice(0, 14))
        assert.equal((await a.call("TerminateCompShareInstance", { ...Z, UHostId: id }, keys)).RetCode, 0);
      await settle(a, b);
      await a.server.services.accounts.setQuotas(acct.account.id, { instances: 6 });
      // The creates go to another project: its counts are other rows than the recovers change, so
      // only the account's lock orders them.
      const other = await a.server.services.accounts.createProject(acct.account.id, "other");
      const results = await Promise.all([
        ...ids
          .slice(0, 14)
          .map((id, i) => (i % 2 ? a : b).call("RecoverCompShareInstance", { ...Z, UHostId: id }, keys)),
        ...Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? b : a).call("CreateCompShareInstance", createParams({ ProjectId: other.id }), keys),
        ),
      ]);
      const codes = results.map((r) => r.RetCode);
      assert.equal(codes.filter((c) => c === 0).length, 4, JSON.stringify(codes));
      assert.ok(
        codes.every((c) => c === 0 || c === 8046),
        JSON.stringify(codes),
      );
      await settle(a, b);
      let live = 0;
      for (const projectId of [acct.project.id, other.id])
        live += (await b.call("DescribeCompShareInstance", { Region: "cn-wlcb", ProjectId: projectId }, keys))
          .TotalCount as number;
      assert.equal(live, 6);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("race: creates, terminates and recovers on both replicas at once keep every count exact, with no deadlock", async () => {
    const [a, b] = await replicas();
    try {
      const acct = await a.server.services.accounts.createAccount(`mix-${Date.now()}`, {
        instanceQuota: 200,
        gpuQuota: 1000,
      });
      const keys = acct.keyPair;
      const made = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (i % 2 ? a : b).call("CreateCompShareInstance", createParams(), keys),
        ),
      );
      const ids = made.map((r) => (r.UHostIds as string[])[0] as string);
      await settle(a, b);
      for (const [i, id] of ids.entries())
        assert.equal(
          (await (i % 2 ? a : b).call("StopCompShareInstance", { ...Z, UHostId: id }, keys)).RetCode,
          0,
        );
      await settle(a, b);
      // Half go to the recycle bin first, so that the other half's terminates race their recovers.
      for (const id of ids.slice(0, 12))
        assert.equal((await a.call("TerminateCompShareInstance", { ...Z, UHostId: id }, keys)).RetCode, 0);
      await settle(a, b);
      const calls: Array<Promise<Obj>> = [];
      for (const [i, id] of ids.entries()) {
        const t = i % 2 ? a : b;
        calls.push(
          t.call(
            i < 12 ? "RecoverCompShareInstance" : "TerminateCompShareInstance",
            { ...Z, UHostId: id },
            keys,
          ),
          t.call("CreateCompShareInstance", createParams(), keys),
        );
      }
      const results = await Promise.all(calls);
      assert.deepEqual(
        results.filter((r) => r.RetCode !== 0),
        [],
        "every call accepted: none lost to a deadlock or a conflict",
      );
      await settle(a, b);
      const db = a.server.internals.db;
      const count = async (inRecycle: number) =>
        Number(
          (
            await db.all("SELECT COUNT(*) AS n FROM instances WHERE account_id = ? AND in_recycle = ?", [
              acct.account.id,
              inRecycle,
            ])
          )[0]?.n,
        );
      const live = await count(0);
      assert.equal(live, 36, "12 recovered, 24 made in the race");
      for (const t of [a, b]) {
        const d = await t.call("DescribeCompShareInstance", { Region: "cn-wlcb" }, keys);
        assert.equal(d.TotalCount, live);
        const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" }, keys);
        assert.equal(bin.TotalCount, await count(1));
      }
      assert.equal(await a.server.internals.store.counts.repair(), 0, "the counts agree with the rows");
      await assertSettled(db);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
