import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { WITH_DATA_DISK, detached, diskRow, diskSet, listDisks } from "./disks.test-support.js";

const fx = new InstanceFixture();

describe("DeleteCompshareDisk", () => {
  it("a detached disk only; deleting twice succeeds; its storage is released by the worker", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    const data = (await diskSet(fx, id))[1]?.DiskId as string;
    assert.ok(fx.sim.volumes.has(data));
    const attached = await t.call("DeleteCompshareDisk", { ...Z, UDiskId: data });
    assert.equal(attached.RetCode, 8431);
    assert.match(
      String(attached.Message),
      /is InUse on uhost-\w+; DeleteCompshareDisk needs a detached \(Available\) disk/,
    );
    await fx.stopped(id);
    await detached(fx, id, data);
    const hold = fx.hold("deleteDisk");
    const r = await t.call("DeleteCompshareDisk", { ...Z, UDiskId: data });
    assert.deepEqual([r.RetCode, r.UDiskId], [0, data]);
    await hold.reached();
    assert.equal((await listDisks(fx)).length, 0, "gone from the list at once");
    assert.equal((await t.call("DeleteCompshareDisk", { ...Z, UDiskId: data })).RetCode, 0, "twice is fine");
    hold.release();
    await fx.settle();
    assert.ok(!fx.sim.volumes.has(data), "its storage is released");
    assert.equal((await diskRow(fx, data))?.state, "Deleted");
    assert.equal((await t.call("AttachCompshareDisk", { ...Z, UHostId: id, UDiskId: data })).RetCode, 8430);
    assert.equal((await t.call("DeleteCompshareDisk", { ...Z, UDiskId: "bs-never1" })).RetCode, 8430);
  });

  it("a runtime that fails to release the storage is retried until it does", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    const data = (await diskSet(fx, id))[1]?.DiskId as string;
    await fx.stopped(id);
    await detached(fx, id, data);
    fx.sim.injectFault({ op: "deleteDisk", message: "engine down", count: 2 });
    assert.equal((await t.call("DeleteCompshareDisk", { ...Z, UDiskId: data })).RetCode, 0);
    // The worker backs off 1 s, then 2 s, between tries (emulated time).
    for (let i = 0; i < 3; i++) {
      await fx.settle();
      t.server.internals.clock.advance(5000);
    }
    await fx.settle();
    assert.ok(!fx.sim.volumes.has(data));
    assert.equal(fx.sim.calls.deleteDisk, 3);
  });

  it("race: two deletes at once both succeed and release the storage once", async () => {
    const id = await fx.running(WITH_DATA_DISK);
    const data = (await diskSet(fx, id))[1]?.DiskId as string;
    await fx.stopped(id);
    await detached(fx, id, data);
    const answers = await fx.race("DeleteCompshareDisk", { ...Z, UDiskId: data });
    assert.deepEqual(
      answers.map((a) => a.RetCode),
      [0, 0],
    );
    await fx.settle();
    assert.equal(fx.sim.calls.deleteDisk, 1);
  });
});
