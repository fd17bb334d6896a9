import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { WITH_DATA_DISK, detached, diskSet, listDisks } from "./disks.test-support.js";

const fx = new InstanceFixture();

describe("ResizeCompShareDisk", () => {
  it("an attached disk grows only while its instance is Stopped, through Resizing, within the type's limit", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    const data = (await diskSet(fx, id))[1]?.DiskId as string;
    const running = await t.call("ResizeCompShareDisk", { ...Z, UDiskId: data, Size: 200 });
    assert.equal(running.RetCode, 8041);
    assert.match(String(running.Message), /ResizeCompShareDisk is allowed only from \[Stopped\]/);
    await fx.stopped(id);
    const shrink = await t.call("ResizeCompShareDisk", { ...Z, UDiskId: data, Size: 50 });
    assert.match(String(shrink.Message), /Params \[Size\].*only grow: .* is 100 GB/);
    assert.match(
      String((await t.call("ResizeCompShareDisk", { ...Z, UDiskId: data, Size: 5000 })).Message),
      /at most 4000 GB/,
    );
    const wrongHost = await t.call("ResizeCompShareDisk", {
      ...Z,
      UDiskId: data,
      Size: 200,
      UHostId: "uhost-other1",
    });
    assert.equal(wrongHost.RetCode, 8432);
    const [won, lost] = await fx.paused(async () => {
      const answers = await fx.race("ResizeCompShareDisk", { ...Z, UDiskId: data, Size: 200, UHostId: id });
      await fx.expectState(id, "Resizing");
      return answers;
    });
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    assert.equal(lost?.RetCode, 8040, JSON.stringify(lost));
    await fx.settle();
    await fx.expectState(id, "Stopped");
    assert.equal((await diskSet(fx, id))[1]?.Size, 200);
    assert.equal((await listDisks(fx))[0]?.Configuration, "200GB");
  });

  it("a detached disk grows at once; of two equal grows exactly one applies", async () => {
    const { t } = fx;
    const id = await fx.running(WITH_DATA_DISK);
    const data = (await diskSet(fx, id))[1]?.DiskId as string;
    await fx.stopped(id);
    await detached(fx, id, data);
    const [a, b] = await Promise.all(
      [0, 1].map(() => t.call("ResizeCompShareDisk", { ...Z, UDiskId: data, Size: 300 })),
    );
    assert.deepEqual([a?.RetCode, b?.RetCode].sort(), [0, 230], JSON.stringify([a, b]));
    assert.equal((await listDisks(fx))[0]?.Size, 300);
    assert.equal(
      (await t.call("ResizeCompShareDisk", { ...Z, UDiskId: "bs-nothere", Size: 300 })).RetCode,
      8430,
    );
    assert.equal(
      (await t.call("ResizeCompShareDisk", { ...Z, UDiskId: data, Size: 300, UHostId: id })).RetCode,
      8432,
    );
  });
});
