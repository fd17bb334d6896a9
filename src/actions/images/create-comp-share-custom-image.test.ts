import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startTestServer } from "../../../test/helpers.js";
import { ImageService } from "../../core/images/images.js";
import { ImageResolver } from "../../core/images/resolve.js";
import { randomIds } from "../../domain/ids.js";
import type { Driver } from "../../drivers/driver.js";
import { InstanceFixture, SMALL_CATALOG, Z } from "../instances/fixtures.test-support.js";
import { customImage, finishJobs, imageName, makeImage, progressPast } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

async function flag(id: string): Promise<number> {
  const rows = await fx.t.server.internals.db.all("SELECT making_image FROM instances WHERE id = ?", [id]);
  return Number(rows[0]?.making_image);
}

describe("CreateCompShareCustomImage", () => {
  it("Making, with progress over the emulator's clock, then Available; the instance keeps running and is unflagged", async () => {
    const { t } = fx;
    const id = await fx.running();
    const img = await makeImage(fx, id, { Description: "PyTorch env" });
    assert.match(img, /^compshareImage-[a-z0-9]{8}$/);
    const making = await customImage(fx, img);
    assert.equal(making?.Status, "Making");
    assert.equal(making?.ImageType, "Custom");
    assert.equal(making?.Description, "PyTorch env");
    assert.equal(await flag(id), 1);
    await fx.expectState(id, "Running");

    // 50 GB of system disk at 1 s per GB of emulated time: half-way after 25 s.
    t.server.internals.clock.advance(25_000);
    const half = await progressPast(fx, img, 40);
    assert.ok((half.Process as number) < 100, JSON.stringify(half));
    assert.equal(half.Status, "Making");
    assert.equal(typeof half.TotalDuration, "string");
    assert.equal(half.TotalDuration, "50");
    assert.ok(Number(half.RemainingDuration) <= 30, JSON.stringify(half));

    await finishJobs(fx);
    const done = await customImage(fx, img);
    assert.equal(done?.Status, "Available");
    assert.equal(done?.Size, 50 * 1024);
    assert.equal(done?.SourceGpuType, "4090");
    assert.equal(done?.Container, "False");
    const p = await t.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: img });
    assert.deepEqual([p.Process, p.RemainingDuration, p.Status, p.Progress], [100, "0", "Available", 100]);
    assert.equal(await flag(id), 0);
    assert.equal(fx.sim.calls.image, 1);
    await fx.expectState(id, "Running");
    await fx.stopped(id);
  });

  it("a stopped VM-image instance may be imaged; a container-image instance only while Running", async () => {
    const { t } = fx;
    const vm = await fx.running();
    await fx.stopped(vm);
    const img = await makeImage(fx, vm);
    await finishJobs(fx);
    assert.equal((await customImage(fx, img))?.Status, "Available");

    const pod = await fx.running({ CompShareImageId: "compshareImage-pytorch21" });
    assert.match(pod, /^cpod-/);
    await fx.stopped(pod);
    const r = await t.call("CreateCompShareCustomImage", { ...Z, UHostId: pod, Name: imageName() });
    assert.equal(r.RetCode, 8041, JSON.stringify(r));
    assert.match(
      String(r.Message),
      /is \[Stopped\]; CreateCompShareCustomImage is allowed only from \[Running\]/,
    );
    assert.equal(await flag(pod), 0, "a refusal changes nothing");
  });

  it("while the job runs every operation is refused with 8044; instant changes still work", async () => {
    const { t } = fx;
    // Instances first: settling waits for every task due, image jobs included.
    const running = await fx.running();
    const stopped = await fx.running();
    await fx.stopped(stopped);
    await makeImage(fx, running);
    await makeImage(fx, stopped);
    for (const action of ["StopCompShareInstance", "RebootCompShareInstance"]) {
      const r = await t.call(action, { ...Z, UHostId: running });
      assert.equal(r.RetCode, 8044, `${action}: ${JSON.stringify(r)}`);
      assert.match(String(r.Message), /has a custom image being made/);
    }
    const again = await t.call("CreateCompShareCustomImage", { ...Z, UHostId: running, Name: imageName() });
    assert.equal(again.RetCode, 8044, "one image job per instance at a time");
    const disk = await t.call("CreateAndAttachCompshareDisk", {
      ...Z,
      UHostId: running,
      Size: 40,
      Name: "data",
      ChargeType: "Postpay",
    });
    assert.equal(disk.RetCode, 8044, JSON.stringify(disk));
    assert.deepEqual((await t.call("DescribeCompshareDisk", { ...Z })).DiskSet, [], "no disk left behind");
    assert.equal(
      (await t.call("ModifyCompShareInstanceName", { ...Z, UHostId: running, Name: "renamed" })).RetCode,
      0,
    );
    const refused: Array<[string, Record<string, string | number | boolean>]> = [
      ["StartCompShareInstance", {}],
      ["TerminateCompShareInstance", {}],
      ["ReinstallCompShareInstance", { CompShareImageId: "compshareImage-ubuntu2204" }],
      ["ResizeCompShareInstance", { Cpu: 32, Memory: 131072, Gpu: 2 }],
    ];
    for (const [action, extra] of refused) {
      const r = await t.call(action, { ...Z, UHostId: stopped, ...extra });
      assert.equal(r.RetCode, 8044, `${action}: ${JSON.stringify(r)}`);
    }
    await finishJobs(fx);
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: stopped })).RetCode, 0);
    await fx.settle();
    await fx.expectState(stopped, "Running");
    await fx.stopped(running);
  });

  it("refuses clearly: unknown instance, another zone, bad name, a name in use, a held lock, the recycle bin", async () => {
    const { t } = fx;
    const id = await fx.running();
    const missing = await t.call("CreateCompShareCustomImage", {
      ...Z,
      UHostId: "uhost-missing1",
      Name: "x",
    });
    assert.equal(missing.RetCode, 8039);
    const zone = await t.call("CreateCompShareCustomImage", {
      Region: "cn-bj2",
      Zone: "cn-bj2-02",
      UHostId: id,
      Name: "x",
    });
    assert.equal(zone.RetCode, 8039);
    const bad = await t.call("CreateCompShareCustomImage", { ...Z, UHostId: id, Name: "no/slashes" });
    assert.deepEqual([bad.RetCode, /Params \[Name\]/.test(String(bad.Message))], [230, true]);
    const long = await t.call("CreateCompShareCustomImage", {
      ...Z,
      UHostId: id,
      Name: "ok",
      Description: "d".repeat(256),
    });
    assert.equal(long.RetCode, 230);
    const noName = await t.call("CreateCompShareCustomImage", { ...Z, UHostId: id });
    assert.equal(noName.RetCode, 210);

    const name = imageName();
    await makeImage(fx, id, { Name: name });
    await finishJobs(fx);
    const other = await fx.running();
    const dup = await t.call("CreateCompShareCustomImage", { ...Z, UHostId: other, Name: name });
    assert.equal(dup.RetCode, 8071, JSON.stringify(dup));
    assert.match(String(dup.Message), new RegExp(`named ${name};`));
    assert.equal(await flag(other), 0, "the refused job left no flag");

    const stop = fx.hold("stop");
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: other })).RetCode, 0);
    await stop.reached();
    const locked = await t.call("CreateCompShareCustomImage", { ...Z, UHostId: other, Name: imageName() });
    assert.equal(locked.RetCode, 8040, JSON.stringify(locked));
    stop.release();
    await fx.settle();

    await fx.recycled(other);
    const binned = await t.call("CreateCompShareCustomImage", { ...Z, UHostId: other, Name: imageName() });
    assert.equal(binned.RetCode, 8039);
  });

  it("a driver fault fails the job after its attempts: UnAvailable with the reason, the instance unflagged", async () => {
    const { t } = fx;
    const id = await fx.running();
    const fault = await t.call("EmulatorInjectFault", {
      Target: "Driver",
      Operation: "image",
      Message: "snapshot storage full",
      Count: 3,
    });
    assert.equal(fault.RetCode, 0, JSON.stringify(fault));
    const img = await makeImage(fx, id);
    await fx.exhaustDriverAttempts();
    const failed = await customImage(fx, img);
    assert.equal(failed?.Status, "UnAvailable");
    assert.equal(failed?.FailedReason, "snapshot storage full");
    const p = await t.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: img });
    assert.deepEqual([p.Status, p.FailedReason], ["Failed", "snapshot storage full"]);
    assert.equal(await flag(id), 0);
    assert.equal(fx.sim.calls.image, 3);
    await fx.stopped(id);
  });

  it("race: two images of one instance at once → one accepted, the other 8044; one name twice at once → one 8071", async () => {
    const { t } = fx;
    const a = await fx.running();
    const b = await fx.running();
    await fx.stopped(b);
    const d = await fx.running();
    await fx.stopped(d);
    const two = await Promise.all(
      [0, 1].map(() => t.call("CreateCompShareCustomImage", { ...Z, UHostId: a, Name: imageName() })),
    );
    assert.deepEqual(two.map((r) => r.RetCode).sort(), [0, 8044]);
    const name = imageName();
    const race = await Promise.all(
      [b, d].map((u) => t.call("CreateCompShareCustomImage", { ...Z, UHostId: u, Name: name })),
    );
    assert.deepEqual(race.map((r) => r.RetCode).sort(), [0, 8071], JSON.stringify(race));
    await finishJobs(fx);
    const listed = await t.call("DescribeCompShareCustomImages", { ...Z, Limit: 100 });
    assert.equal((listed.ImageSet as Array<{ Name: string }>).filter((i) => i.Name === name).length, 1);
    assert.equal(fx.sim.calls.image, 2, "each accepted job captured once");
  });

  it("the account's image quota (OCS_IMAGE_QUOTA) is a clear error", async () => {
    const t = await startTestServer({ OCS_IMAGE_QUOTA: "1" }, { catalog: SMALL_CATALOG }, { http: false });
    try {
      const r = await t.call("CreateCompShareInstance", {
        ...Z,
        GpuType: "4090",
        GPU: 1,
        CPU: 16,
        Memory: 65536,
        CompShareImageId: "compshareImage-ubuntu2204",
        ChargeType: "Postpay",
      });
      const id = (r.UHostIds as string[])[0] as string;
      await t.server.internals.worker.drain();
      assert.equal((await t.call("CreateCompShareCustomImage", { ...Z, UHostId: id, Name: "a" })).RetCode, 0);
      t.server.internals.clock.advance(3600_000);
      await t.server.internals.worker.drain();
      const over = await t.call("CreateCompShareCustomImage", { ...Z, UHostId: id, Name: "b" });
      assert.equal(over.RetCode, 8072, JSON.stringify(over));
      assert.match(String(over.Message), /may hold 1 custom images and holds 1/);
    } finally {
      await t.close();
    }
  });

  it("a driver that cannot make images refuses with 8074, writing nothing", async () => {
    const { store, clock } = fx.t.server.internals;
    const noImages = { name: "plain" } as Driver;
    const svc = new ImageService({
      store,
      clock,
      ids: randomIds,
      resolver: new ImageResolver(store, fx.t.server.services.catalog),
      driver: noImages,
      kick: () => {},
      quota: 5,
    });
    const scope = {
      account: (await fx.t.server.services.accounts.accountByName("root"))!,
      project: (
        await fx.t.server.services.accounts.projectsOf(
          (await fx.t.server.services.accounts.accountByName("root"))!.id,
        )
      )[0]!,
      region: "cn-wlcb",
    };
    await assert.rejects(svc.create(scope, { uhostId: "uhost-any", name: "x" }), (e: Error) => {
      assert.match(e.message, /The plain driver cannot make custom images/);
      return true;
    });
  });
});
