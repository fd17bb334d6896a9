import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, SMALL_CATALOG, Z } from "../instances/fixtures.test-support.js";
import { WITH_DATA_DISK, detached, diskSet, listDisks, newDisk } from "./disks.test-support.js";

const fx = new InstanceFixture({
  catalog: {
    ...SMALL_CATALOG,
    // A second zone, so a disk can be in the wrong one.
    regions: SMALL_CATALOG.regions.map((r) =>
      r.region === "cn-wlcb"
        ? {
            ...r,
            zones: [...r.zones, { zone: "cn-wlcb-02", zoneId: 9, name: "B", chargeTypes: ["Postpay"] }],
          }
        : r,
    ),
    gpuTypes: SMALL_CATALOG.gpuTypes.map((g) =>
      g.name === "4090" ? { ...g, zones: [...g.zones, "cn-wlcb-02"] } : g,
    ),
    hosts: [
      ...SMALL_CATALOG.hosts,
      { id: "h2", zone: "cn-wlcb-02", gpuType: "4090", gpus: 2, cpu: 64, memoryMB: 262144 },
    ],
  },
});

describe("AttachCompshareDisk", () => {
  it("a detached disk moves to another instance of its zone, Running or Stopped; the state stays", async () => {
    const { t } = fx;
    const a = await fx.running(WITH_DATA_DISK);
    const disk = (await diskSet(fx, a))[1]?.DiskId as string;
    await fx.stopped(a);
    await detached(fx, a, disk);
    const b = await fx.running();
    const r = await t.call("AttachCompshareDisk", { ...Z, UHostId: b, UDiskId: disk });
    assert.deepEqual([r.RetCode, r.UHostId, r.UDiskId], [0, b, disk]);
    await fx.settle();
    await fx.expectState(b, "Running");
    assert.deepEqual((await diskSet(fx, b)).map((d) => [d.DiskId, d.Drive]).slice(1), [[disk, "/dev/vdb"]]);
    assert.deepEqual(
      (await listDisks(fx)).map((d) => [d.ResourceId, d.Status, d.MountInstance]),
      [[disk, "InUse", b]],
    );
  });

  it("refuses a disk that is attached, in another zone, unknown or the system disk", async () => {
    const { t } = fx;
    const a = await fx.running(WITH_DATA_DISK);
    const [boot, data] = (await diskSet(fx, a)).map((d) => d.DiskId as string);
    const b = await fx.running();
    const busy = await t.call("AttachCompshareDisk", { ...Z, UHostId: b, UDiskId: data as string });
    assert.equal(busy.RetCode, 8431);
    assert.match(String(busy.Message), new RegExp(`InUse on ${a};`));
    assert.equal(
      (await t.call("AttachCompshareDisk", { ...Z, UHostId: b, UDiskId: boot as string })).RetCode,
      8431,
    );
    assert.equal(
      (await t.call("AttachCompshareDisk", { ...Z, UHostId: b, UDiskId: "bs-nothere" })).RetCode,
      8430,
    );
    const far = await fx.running({ Zone: "cn-wlcb-02" });
    assert.equal(
      (await t.call("StopCompShareInstance", { Region: "cn-wlcb", Zone: "cn-wlcb-02", UHostId: far }))
        .RetCode,
      0,
    );
    await fx.settle();
    const farDisk = await newDisk(fx, far);
    await detached(fx, far, farDisk);
    const wrongZone = await t.call("AttachCompshareDisk", { ...Z, UHostId: b, UDiskId: farDisk });
    assert.equal(wrongZone.RetCode, 8435);
    assert.match(String(wrongZone.Message), /in zone cn-wlcb-02 and instance .* in cn-wlcb-01/);
  });

  it("an attach whose lock expired (a worker gone for good) is undone by the operation that takes over", async () => {
    const { t } = fx;
    const a = await fx.running();
    await fx.stopped(a);
    const disk = await newDisk(fx, a);
    await detached(fx, a, disk);
    await fx.paused(async () => {
      assert.equal((await t.call("AttachCompshareDisk", { ...Z, UHostId: a, UDiskId: disk })).RetCode, 0);
      assert.equal((await listDisks(fx))[0]?.Status, "Attaching");
      t.server.internals.clock.advance(600_001);
      assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: a })).RetCode, 0);
      assert.equal((await listDisks(fx))[0]?.Status, "Available", "undone when Start took the lock over");
    });
    await fx.settle();
    await fx.expectState(a, "Running");
    assert.deepEqual(
      (await listDisks(fx)).map((d) => [d.Status, d.MountInstance]),
      [["Available", ""]],
    );
  });

  it("race: one detached disk onto two instances at once, exactly one gets it", async () => {
    const { t } = fx;
    const a = await fx.running();
    await fx.stopped(a);
    const disk = await newDisk(fx, a);
    await detached(fx, a, disk);
    const b = await fx.running();
    const hold = fx.hold("syncDisks");
    const answers = await Promise.all([
      t.call("AttachCompshareDisk", { ...Z, UHostId: a, UDiskId: disk }),
      t.call("AttachCompshareDisk", { ...Z, UHostId: b, UDiskId: disk }),
    ]);
    const codes = answers.map((x) => x.RetCode).sort();
    assert.deepEqual(codes, [0, 8431], JSON.stringify(answers));
    hold.release();
    await fx.settle();
    const rows = await listDisks(fx);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.Status, "InUse");
  });

  it("race: two attaches onto one instance at once, exactly one accepted, the other told the lock is held", async () => {
    const { t } = fx;
    const a = await fx.running();
    await fx.stopped(a);
    const d1 = await newDisk(fx, a);
    const d2 = await newDisk(fx, a);
    await detached(fx, a, d1);
    await detached(fx, a, d2);
    const hold = fx.hold("syncDisks");
    const answers = await Promise.all(
      [d1, d2].map((d) => t.call("AttachCompshareDisk", { ...Z, UHostId: a, UDiskId: d })),
    );
    assert.deepEqual(answers.map((x) => x.RetCode).sort(), [0, 8040], JSON.stringify(answers));
    hold.release();
    await fx.settle();
  });
});
