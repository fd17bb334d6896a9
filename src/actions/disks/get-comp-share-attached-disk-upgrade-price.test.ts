import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { WITH_DATA_DISK, diskSet, newDisk } from "./disks.test-support.js";

const fx = new InstanceFixture();

describe("GetCompShareAttachedDiskUpgradePrice", () => {
  it("the difference per charge-type unit of the disk, from the one price function", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    const data = (await diskSet(fx, id))[1]?.DiskId as string;
    // Postpay (the instance's): (300 - 100) GB × 0.0003 per GB-hour.
    const r = await t.call("GetCompShareAttachedDiskUpgradePrice", {
      ...Z,
      UHostId: id,
      DiskId: data,
      DiskSpace: "300",
    });
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    assert.deepEqual([r.Price, r.OriginalPrice, r.ListPrice], [0.06, 0.06, 0.06]);
    assert.deepEqual(r.PriceDetail, { UDisk: 0.06, Snapshot: 0 });
    // A disk bought by the month: 200 GB × 0.0003 × 720 hours.
    const monthly = await newDisk(fx, id, { Size: 100, ChargeType: "Month" });
    const m = await t.call("GetCompShareAttachedDiskUpgradePrice", {
      ...Z,
      UHostId: id,
      DiskId: monthly,
      DiskSpace: 300,
    });
    assert.equal(m.Price, 43.2);
  });

  it("grow only, within the limit; the disk must be attached to the instance", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    const data = (await diskSet(fx, id))[1]?.DiskId as string;
    const ask = (p: Record<string, string | number>) =>
      t.call("GetCompShareAttachedDiskUpgradePrice", {
        ...Z,
        UHostId: id,
        DiskId: data,
        DiskSpace: 300,
        ...p,
      });
    assert.match(String((await ask({ DiskSpace: 50 })).Message), /\[DiskSpace\].*only grow/);
    assert.match(String((await ask({ DiskSpace: 9999 })).Message), /at most 4000 GB/);
    assert.equal((await ask({ DiskId: "bs-nothere" })).RetCode, 8430);
    const other = await fx.running();
    assert.equal((await ask({ UHostId: other })).RetCode, 8432);
    assert.equal((await ask({ BackupMode: "TAPE" })).RetCode, 230);
  });
});
