import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams } from "../../../test/helpers.js";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("RecoverCompShareInstance (extension)", () => {
  it("back from the bin to Stopped, same id, a fresh system disk and the kept data disk", async () => {
    const { t } = fx;
    const id = await fx.running({
      Disks: [
        { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
        { IsBoot: false, Type: "CLOUD_SSD", Size: 100 },
      ],
    });
    await fx.recycled(id);
    const create = fx.hold("create");
    assert.equal((await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode, 0);
    await create.reached();
    // Out of the bin at once; the runtime is rebuilt behind the lock.
    await fx.expectState(id, "Install");
    create.release();
    await fx.settle();
    const u = await fx.expectState(id, "Stopped");
    assert.equal((u.DiskSet as unknown[]).length, 2, "fresh system disk plus the kept data disk");
    assert.equal((await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" })).TotalCount, 0);
  });

  it("a kept disk attached elsewhere or deleted meanwhile is not given back; the others are", async () => {
    const { t } = fx;
    const WITH_TWO = {
      Disks: [
        { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
        { IsBoot: false, Type: "CLOUD_SSD", Size: 100 },
        { IsBoot: false, Type: "CLOUD_SSD", Size: 200 },
      ],
    };
    const id = await fx.running(WITH_TWO);
    const [, small, large] = ((await fx.describe(id))?.DiskSet as Array<{ DiskId: string }>).map(
      (d) => d.DiskId,
    );
    await fx.recycled(id);
    const other = await fx.running();
    assert.equal(
      (await t.call("AttachCompshareDisk", { ...Z, UHostId: other, UDiskId: small as string })).RetCode,
      0,
    );
    await fx.settle();
    assert.equal((await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode, 0);
    await fx.settle();
    const u = await fx.expectState(id, "Stopped");
    assert.deepEqual(
      (u.DiskSet as Array<{ DiskId: string; Drive: string }>).slice(1).map((d) => [d.DiskId, d.Drive]),
      [[large, "/dev/vdb"]],
    );
    const theirs = (await fx.describe(other))?.DiskSet as Array<{ DiskId: string }>;
    assert.equal(theirs[1]?.DiskId, small, "it stays where it was attached");
  });

  it("only an instance in the bin: a live or unknown id is not in the recycle bin", async () => {
    const { t } = fx;
    const id = await fx.running();
    assert.equal(
      (await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode,
      8047,
    );
    await fx.recycled(id);
    assert.equal((await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode, 0);
    await fx.settle();
    assert.equal(
      (await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode,
      8047,
    );
    assert.equal(
      (await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: "uhost-missing1" })).RetCode,
      8047,
    );
  });

  it("counts against the account's instance quota", async () => {
    const { t } = fx;
    const acct = await t.server.services.accounts.createAccount(`recover-${Date.now()}`, {
      instanceQuota: 1,
    });
    const r = await t.call("CreateCompShareInstance", createParams(), acct.keyPair);
    const id = (r.UHostIds as string[])[0]!;
    await fx.settle();
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id }, acct.keyPair)).RetCode, 0);
    await fx.settle();
    assert.equal(
      (await t.call("TerminateCompShareInstance", { ...Z, UHostId: id }, acct.keyPair)).RetCode,
      0,
    );
    await fx.settle();
    assert.equal((await t.call("CreateCompShareInstance", createParams(), acct.keyPair)).RetCode, 0);
    const over = await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id }, acct.keyPair);
    assert.equal(over.RetCode, 8046);
    assert.match(String(over.Message), /quota/);
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" }, acct.keyPair);
    assert.equal(bin.TotalCount, 1, "still in the bin");
  });

  it("race: two concurrent Recovers, exactly one accepted", async () => {
    const id = await fx.running();
    await fx.recycled(id);
    const before = fx.sim.calls.create;
    const create = fx.hold("create");
    const [won, lost] = await fx.race("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id });
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    // The winner took it out of the bin at once: the loser finds it no longer there (8047), or,
    // having read it just before the winner committed, is told the lock is held (8040).
    assert.ok([8040, 8047].includes(lost?.RetCode as number), JSON.stringify([won, lost]));
    await create.reached();
    create.release();
    await fx.settle();
    await fx.expectState(id, "Stopped");
    assert.equal(fx.sim.calls.create - before, 1);
  });
});
