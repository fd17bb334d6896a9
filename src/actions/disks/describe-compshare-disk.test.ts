import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams } from "../../../test/helpers.js";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { WITH_DATA_DISK, detached, listDisks, newDisk } from "./disks.test-support.js";

const fx = new InstanceFixture();

describe("DescribeCompshareDisk", () => {
  it("lists attached and detached data disks with the fields the official CLI reads", async () => {
    const id = await fx.running(WITH_DATA_DISK);
    const scratch = await newDisk(fx, id, { Name: "scratch", Size: 40, ChargeType: "Postpay" });
    const all = await listDisks(fx);
    assert.equal(all.length, 2, "data disks only: the system disk is not one of them");
    const s = all.find((d) => d.ResourceId === scratch);
    assert.ok(s);
    assert.deepEqual(
      [
        s.Name,
        s.Configuration,
        s.Size,
        s.DiskType,
        s.Status,
        s.MountInstance,
        s.MountDevice,
        s.Zone,
        s.Region,
      ],
      ["scratch", "40GB", 40, "SSDDataDisk", "InUse", id, "/dev/vdc", "cn-wlcb-01", "cn-wlcb"],
    );
    assert.equal(s.ChargeType, "Postpay");
    assert.equal(typeof s.CreateTime, "number");
    await fx.stopped(id);
    await detached(fx, id, scratch);
    const after = (await listDisks(fx)).find((d) => d.ResourceId === scratch);
    assert.deepEqual([after?.Status, after?.MountInstance, after?.MountDevice], ["Available", "", ""]);
  });

  it("HostId narrows to one instance's disks, Region to its zones; no Region lists every region", async () => {
    const a = await fx.running(WITH_DATA_DISK);
    const b = await fx.running();
    const onB = await newDisk(fx, b);
    assert.deepEqual(
      (await listDisks(fx, { HostId: b })).map((d) => d.ResourceId),
      [onB],
    );
    assert.equal((await listDisks(fx, { HostId: a })).length, 1);
    assert.equal((await listDisks(fx, { HostId: "uhost-nothere" })).length, 0);
    assert.equal((await listDisks(fx, { Region: "cn-wlcb" })).length, 2);
    assert.equal((await listDisks(fx, { Region: "cn-bj2" })).length, 0);
  });

  it("another project's disks are not listed, and are not found by the disk actions", async () => {
    const { t } = fx;
    const other = await t.server.services.accounts.createAccount(`disks-${Date.now()}`);
    const r = await t.call("CreateCompShareInstance", createParams(WITH_DATA_DISK), other.keyPair);
    const theirs = (r.UHostIds as string[])[0] as string;
    await fx.settle();
    assert.equal((await listDisks(fx)).length, 0);
    const theirList = await t.call("DescribeCompshareDisk", {}, other.keyPair);
    const diskId = (theirList.DiskSet as Array<{ ResourceId: string }>)[0]?.ResourceId as string;
    const mine = await fx.running();
    await fx.stopped(mine);
    const attach = await t.call("AttachCompshareDisk", { ...Z, UHostId: mine, UDiskId: diskId });
    assert.equal(attach.RetCode, 8430, JSON.stringify(attach));
    assert.equal((await t.call("DeleteCompshareDisk", { ...Z, UDiskId: diskId })).RetCode, 8430);
    assert.equal(
      (await t.call("DetachCompshareDisk", { ...Z, UHostId: theirs, UDiskId: diskId })).RetCode,
      8039,
      "their instance is not found either",
    );
  });
});
