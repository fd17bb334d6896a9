import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { diskRow, diskSet, listDisks, newDisk } from "./disks.test-support.js";

const fx = new InstanceFixture();

describe("CreateAndAttachCompshareDisk", () => {
  it("a Running instance gets a new disk and stays Running; Describe's DiskSet, TotalDiskSpace and DiskPrice follow", async () => {
    const { t } = fx;
    const id = await fx.running();
    const before = await fx.describe(id);
    const hold = fx.hold("syncDisks");
    const r = await t.call("CreateAndAttachCompshareDisk", {
      ...Z,
      UHostId: id,
      Size: 200,
      DiskType: "SSDDataDisk",
      Name: "datasets",
      ChargeType: "Postpay",
    });
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    assert.match(String(r.UDiskId), /^bs-/);
    await hold.reached();
    // While the runtime takes it, the lock is held and the instance shows Running throughout.
    assert.equal((await fx.describe(id))?.State, "Running");
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 8040);
    assert.equal((await listDisks(fx))[0]?.Status, "Attaching");
    hold.release();
    await fx.settle();
    const u = await fx.expectState(id, "Running");
    const data = (u.DiskSet as Array<Record<string, unknown>>).find((d) => d.DiskId === r.UDiskId);
    assert.deepEqual(
      [data?.Name, data?.Size, data?.DiskType, data?.Drive, data?.IsBoot, data?.Type],
      ["datasets", 200, "CLOUD_SSD", "/dev/vdb", "False", "Data"],
    );
    assert.equal(u.TotalDiskSpace, 200);
    // 200 GB × 0.0003 per GB-hour (the one price function).
    assert.equal(Math.round(((u.DiskPrice as number) - (before?.DiskPrice as number)) * 1e4) / 1e4, 0.06);
    assert.equal(fx.sim.calls.syncDisks, 1);
    assert.ok(fx.sim.volumes.has(r.UDiskId as string), "the runtime made its storage");
  });

  it("a Stopped instance too; each disk takes the next free device", async () => {
    const id = await fx.running();
    await fx.stopped(id);
    const a = await newDisk(fx, id);
    const b = await newDisk(fx, id);
    await fx.expectState(id, "Stopped");
    const drives = (await diskSet(fx, id)).map((d) => [d.DiskId, d.Drive]);
    assert.deepEqual(drives.slice(1), [
      [a, "/dev/vdb"],
      [b, "/dev/vdc"],
    ]);
  });

  it("checks type, size, charge type and name against the instance's type; nothing is made when refused", async () => {
    const { t } = fx;
    const id = await fx.running();
    const ask = (extra: Record<string, string | number>) =>
      t.call("CreateAndAttachCompshareDisk", { ...Z, UHostId: id, Size: 40, Name: "d", ...extra });
    const rssd = await ask({ DiskType: "RSSDDataDisk" });
    assert.equal(rssd.RetCode, 230);
    assert.match(
      String(rssd.Message),
      /Params \[DiskType\].*RSSDDataDisk is not offered for 4090; choose one of SSDDataDisk/,
    );
    assert.match(String((await ask({ DiskType: "Floppy" })).Message), /\[DiskType\]/);
    const small = await ask({ Size: 10 });
    assert.match(String(small.Message), /Params \[Size\].*between 20 and 4000 GB/);
    assert.match(String((await ask({ Size: 4001 })).Message), /between 20 and 4000/);
    assert.match(
      String((await ask({ ChargeType: "Spot" })).Message),
      /\[ChargeType\].*Month, Day, Dynamic, Postpay/,
    );
    assert.match(String((await ask({ Name: "bad/name" })).Message), /\[Name\]/);
    assert.equal(
      (await t.call("CreateAndAttachCompshareDisk", { ...Z, UHostId: id, Size: 40 })).RetCode,
      210,
    );
    assert.equal((await ask({ UHostId: "uhost-missing1" })).RetCode, 8039);
    assert.equal((await listDisks(fx)).length, 0);
  });

  it("at most the type's data disks (4), and only from Running or Stopped", async () => {
    const { t } = fx;
    const id = await fx.running();
    for (let i = 0; i < 4; i++) await newDisk(fx, id);
    const fifth = await t.call("CreateAndAttachCompshareDisk", { ...Z, UHostId: id, Size: 40, Name: "e" });
    assert.equal(fifth.RetCode, 8433);
    assert.match(String(fifth.Message), /already has 4 data disks/);
    const other = await fx.running();
    const stop = fx.hold("stop");
    await t.call("StopCompShareInstance", { ...Z, UHostId: other });
    await stop.reached();
    assert.equal(
      (await t.call("CreateAndAttachCompshareDisk", { ...Z, UHostId: other, Size: 40, Name: "x" })).RetCode,
      8040,
    );
    stop.release();
    await fx.settle();
    await fx.recycled(other);
    const gone = await t.call("CreateAndAttachCompshareDisk", { ...Z, UHostId: other, Size: 40, Name: "x" });
    assert.equal(gone.RetCode, 8039, "an instance in the recycle bin is not found");
  });

  it("race: two concurrent creates on one instance, exactly one accepted, the other told the lock is held", async () => {
    const id = await fx.running();
    const hold = fx.hold("syncDisks");
    const [won, lost] = await fx.race("CreateAndAttachCompshareDisk", {
      ...Z,
      UHostId: id,
      Size: 40,
      Name: "r",
    });
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    assert.equal(lost?.RetCode, 8040, JSON.stringify([won, lost]));
    hold.release();
    await fx.settle();
    assert.equal((await listDisks(fx)).length, 1);
  });

  it("a runtime that cannot take the disk leaves it detached, the reason in Remark, the instance as it was", async () => {
    const { t } = fx;
    const id = await fx.running();
    fx.sim.injectFault({ op: "syncDisks", message: "no space for the volume", count: 10 });
    const r = await t.call("CreateAndAttachCompshareDisk", { ...Z, UHostId: id, Size: 40, Name: "f" });
    assert.equal(r.RetCode, 0);
    await fx.exhaustDriverAttempts();
    const u = await fx.expectState(id, "Running");
    assert.match(String(u.Remark), /no space for the volume/);
    assert.equal((u.DiskSet as unknown[]).length, 1, "only the system disk");
    const row = await diskRow(fx, r.UDiskId as string);
    assert.deepEqual([row?.state, row?.instance_id], ["Available", null]);
  });
});
