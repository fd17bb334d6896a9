import assert from "node:assert/strict";
import { it } from "node:test";
import { eachDialect, sampleInstance } from "../../test/helpers.js";
import type { AuditRecord } from "../domain/records.js";
import { migrate } from "./migrations.js";
import { Store } from "./store.js";

const entry = (over: Partial<AuditRecord>): Omit<AuditRecord, "seq"> => ({
  at: 1000,
  kind: "call",
  accountId: "a",
  publicKey: "pk",
  client: "127.0.0.1",
  action: "StopCompShareInstance",
  resourceIds: [],
  retCode: 0,
  requestId: "r",
  message: "",
  ...over,
});

/** The audit log and the key lifecycle columns, on every dialect. */
eachDialect("security repositories", 5, (open) => {
  const fresh = async () => {
    const db = await open();
    await migrate(db);
    return new Store(db);
  };

  it("audit entries page newest first, filter exactly (a resource id is not a LIKE pattern), and expire", async () => {
    const s = await fresh();
    await s.tx((r) =>
      r.audit.insertMany([
        entry({ at: 1000, resourceIds: ["uhost-a1", "org-1"] }),
        entry({ at: 2000, kind: "auth-failure", accountId: null, retCode: 171 }),
        entry({ at: 3000, accountId: "b", action: "CreateCompShareInstance", resourceIds: ["uhost-a10"] }),
      ]),
    );
    const all = await s.audit.page({}, 0, 10);
    assert.equal(all.total, 3);
    assert.deepEqual(
      all.rows.map((e) => e.at),
      [3000, 2000, 1000],
    );
    assert.deepEqual(all.rows[2]?.resourceIds, ["uhost-a1", "org-1"]);
    assert.equal(all.rows[1]?.accountId, null);
    assert.equal((await s.audit.page({ resourceId: "uhost-a1" }, 0, 10)).total, 1);
    assert.equal((await s.audit.page({ resourceId: "uhost-a_" }, 0, 10)).total, 0);
    assert.equal((await s.audit.page({ resourceId: "%" }, 0, 10)).total, 0);
    assert.equal((await s.audit.page({ kind: "auth-failure" }, 0, 10)).total, 1);
    assert.equal((await s.audit.page({ accountId: "b" }, 0, 10)).total, 1);
    assert.equal((await s.audit.page({ from: 1500, to: 3000 }, 0, 10)).total, 1);
    assert.deepEqual(
      (await s.audit.page({}, 1, 1)).rows.map((e) => e.at),
      [2000],
    );
    assert.equal(await s.audit.deleteBefore(2500), 2);
    assert.equal((await s.audit.page({}, 0, 10)).total, 1);
  });

  it("key lifecycle columns: disabled, last used (never moved back), GPUs held per account", async () => {
    const s = await fresh();
    await s.tx(async (r) => {
      await r.accounts.insertAccount({
        id: "a",
        name: "a",
        isRoot: false,
        instanceQuota: 10,
        gpuQuota: 3,
        disabledAt: null,
        createdAt: 0,
      });
      await r.accounts.insertKeyPair({
        publicKey: "k",
        accountId: "a",
        privateKeySealed: "v1:x",
        origin: "admin",
        createdAt: 5,
        disabledAt: null,
        lastUsedAt: null,
      });
    });
    await s.accounts.touchKey("k", 200);
    await s.accounts.touchKey("k", 100);
    assert.equal((await s.accounts.keyPair("k"))?.lastUsedAt, 200);
    await s.accounts.setKeyDisabled("k", 300);
    assert.equal((await s.accounts.keyPair("k"))?.disabledAt, 300);
    await s.accounts.setQuotas("a", { gpus: 5 });
    assert.equal(await s.tx((r) => r.accounts.gpuQuotaLocked("a")), 5);
    await s.tx(async (r) => {
      await r.hosts.upsert({ id: "h1", zone: "z", gpuType: "4090", gpus: 4, cpu: 64, memoryMB: 65536 });
      await r.accounts.insertProject({ id: "p", accountId: "a", name: "p", isDefault: true, createdAt: 0 });
      await r.instances.insert({ ...sampleInstance("u1", 0), accountId: "a", projectId: "p", gpu: 2 });
      await r.hosts.takeGpu("h1", 0, "u1");
      await r.hosts.takeGpu("h1", 1, "u1");
    });
    assert.equal(await s.hosts.gpusHeldBy("a"), 2);
    assert.equal(await s.hosts.gpusHeldBy("nobody"), 0);
  });
});
