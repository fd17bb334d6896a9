import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { WITH_DATA_DISK, diskSet, listDisks } from "./disks.test-support.js";

const fx = new InstanceFixture();

describe("DetachCompshareDisk", () => {
  it("only from Stopped, never the system disk; Device must be the disk's; the disk is Detaching meanwhile", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    const [boot, data] = (await diskSet(fx, id)).map((d) => d.DiskId as string);
    const running = await t.call("DetachCompshareDisk", { ...Z, UHostId: id, UDiskId: data as string });
    assert.equal(running.RetCode, 8041);
    assert.match(
      String(running.Message),
      /is \[Running\]; DetachCompshareDisk is allowed only from \[Stopped\]/,
    );
    await fx.stopped(id);
    const sys = await t.call("DetachCompshareDisk", { ...Z, UHostId: id, UDiskId: boot as string });
    assert.equal(sys.RetCode, 8436);
    const dev = await t.call("DetachCompshareDisk", {
      ...Z,
      UHostId: id,
      UDiskId: data as string,
      Device: "/dev/vdc",
    });
    assert.equal(dev.RetCode, 230);
    assert.match(String(dev.Message), /\[Device\].*is \/dev\/vdb/);
    assert.equal(
      (await t.call("DetachCompshareDisk", { ...Z, UHostId: id, UDiskId: data as string, Device: "vdb" }))
        .RetCode,
      230,
    );
    const hold = fx.hold("syncDisks");
    const ok = await t.call("DetachCompshareDisk", {
      ...Z,
      UHostId: id,
      UDiskId: data as string,
      Device: "/dev/vdb",
    });
    assert.equal(ok.RetCode, 0, JSON.stringify(ok));
    await hold.reached();
    assert.equal((await listDisks(fx))[0]?.Status, "Detaching");
    // The official CLI retries a delete on 8434 while the disk is still detaching.
    const early = await t.call("DeleteCompshareDisk", { ...Z, UDiskId: data as string });
    assert.equal(early.RetCode, 8434);
    assert.match(String(early.Message), /still detaching/);
    hold.release();
    await fx.settle();
    await fx.expectState(id, "Stopped");
    assert.equal((await diskSet(fx, id)).length, 1);
    assert.deepEqual(
      (await listDisks(fx)).map((d) => [d.Status, d.MountInstance]),
      [["Available", ""]],
    );
    const again = await t.call("DetachCompshareDisk", { ...Z, UHostId: id, UDiskId: data as string });
    assert.equal(again.RetCode, 8432);
  });

  it("race: two detaches at once, exactly one accepted; a runtime failure reattaches it", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    const data = (await diskSet(fx, id))[1]?.DiskId as string;
    await fx.stopped(id);
    const hold = fx.hold("syncDisks");
    const [won, lost] = await fx.race("DetachCompshareDisk", { ...Z, UHostId: id, UDiskId: data });
    assert.equal(won?.RetCode, 0);
    assert.equal(lost?.RetCode, 8040, JSON.stringify(lost));
    hold.release();
    await fx.settle();
    assert.equal((await listDisks(fx))[0]?.Status, "Available");
    // Back on, then a detach the runtime refuses: the disk stays attached, the reason in Remark.
    assert.equal((await t.call("AttachCompshareDisk", { ...Z, UHostId: id, UDiskId: data })).RetCode, 0);
    await fx.settle();
    fx.sim.injectFault({ op: "syncDisks", message: "volume busy", count: 10 });
    assert.equal((await t.call("DetachCompshareDisk", { ...Z, UHostId: id, UDiskId: data })).RetCode, 0);
    await fx.exhaustDriverAttempts();
    const u = await fx.expectState(id, "Stopped");
    assert.match(String(u.Remark), /volume busy/);
    assert.equal((await listDisks(fx))[0]?.Status, "InUse");
  });
});
