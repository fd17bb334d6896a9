import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

const WITH_DATA_DISK = {
  Disks: [
    { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
    { IsBoot: false, Type: "CLOUD_SSD", Size: 100 },
  ],
};

describe("TerminateCompShareInstance", () => {
  it("only from Stopped; leaves Describe, enters the bin; data disks kept unless ReleaseUDisk", async () => {
    // Docs (Terminate): only Stopped (a Running instance returns an error); the system disk is
    // erased; data disks are kept unless ReleaseUDisk=true.
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    assert.equal((await t.call("TerminateCompShareInstance", { ...Z, UHostId: id })).RetCode, 8041);
    await fx.stopped(id);
    const destroy = fx.hold("destroy");
    const r = await t.call("TerminateCompShareInstance", { ...Z, UHostId: id });
    assert.deepEqual([r.RetCode, r.UHostId, r.InRecycle], [0, id, "Yes"]);
    await destroy.reached();
    // Into the recycle bin at once, while the runtime is still being destroyed.
    assert.equal(await fx.describe(id), undefined);
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.deepEqual(
      (bin.UHostSet as Array<{ UHostId: string }>).map((u) => u.UHostId),
      [id],
    );
    destroy.release();
    await fx.settle();
    const disks = await t.server.internals.db.all(
      "SELECT is_boot, state, instance_id, kept_for FROM disks WHERE instance_id = ? OR kept_for = ?",
      [id, id],
    );
    assert.deepEqual(
      disks.map((d) => [Number(d.is_boot), d.state, d.instance_id, d.kept_for]),
      [[0, "Available", null, id]],
      "system disk erased, data disk kept detached (Recover gives it back)",
    );
    // A kept disk is a detached disk like any other.
    const list = await t.call("DescribeCompshareDisk", {});
    assert.deepEqual(
      (list.DiskSet as Array<Record<string, unknown>>).map((d) => [d.Status, d.MountInstance, d.Size]),
      [["Available", "", 100]],
    );
    assert.equal(fx.sim.calls.destroy, 1);
  });

  it("ReleaseUDisk=true deletes the data disks too", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    await fx.stopped(id);
    assert.equal(
      (await t.call("TerminateCompShareInstance", { ...Z, UHostId: id, ReleaseUDisk: true })).RetCode,
      0,
    );
    await fx.settle();
    assert.equal(
      (
        await t.server.internals.db.all("SELECT id FROM disks WHERE instance_id = ? OR kept_for = ?", [
          id,
          id,
        ])
      ).length,
      0,
    );
  });

  it("refused while an image is being made; an unknown or recycled id is not found", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    await t.server.internals.db.run("UPDATE instances SET making_image = 1 WHERE id = ?", [id]);
    assert.equal((await t.call("TerminateCompShareInstance", { ...Z, UHostId: id })).RetCode, 8044);
    await t.server.internals.db.run("UPDATE instances SET making_image = 0 WHERE id = ?", [id]);
    assert.equal(
      (await t.call("TerminateCompShareInstance", { ...Z, UHostId: "uhost-missing1" })).RetCode,
      8039,
    );
    await fx.recycled(id);
    assert.equal((await t.call("TerminateCompShareInstance", { ...Z, UHostId: id })).RetCode, 8039);
  });

  it("the bin is purged after the retention (clock advanced)", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.recycled(id);
    t.server.internals.clock.advance((72 * 3600 + 1) * 1000);
    await fx.settle();
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.equal(bin.TotalCount, 0);
    assert.equal(
      (await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode,
      8047,
    );
  });

  it("race: two concurrent Terminates, exactly one accepted", async () => {
    const id = await fx.running();
    await fx.stopped(id);
    const destroy = fx.hold("destroy");
    const [won, lost] = await fx.race("TerminateCompShareInstance", { ...Z, UHostId: id });
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    // A losing Terminate finds the instance already in the recycle bin: not found (8039); one that
    // read it just before the winner committed is told the lock is held (8040).
    assert.ok([8039, 8040].includes(lost?.RetCode as number), JSON.stringify([won, lost]));
    await destroy.reached();
    destroy.release();
    await fx.settle();
    assert.equal(fx.sim.calls.destroy, 1);
  });
});
