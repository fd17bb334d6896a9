import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams } from "../../../test/helpers.js";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { availableImage, customImage, finishJobs, makeImage, otherAccount } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("TerminateCompShareCustomImage", () => {
  it("deletes the image: gone from the lists and the runtime, its name free again", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    const name = String((await customImage(fx, image))?.Name);
    assert.ok(fx.sim.images.has(image));
    const r = await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: image });
    assert.deepEqual(r, { Action: "TerminateCompShareCustomImageResponse", RetCode: 0 });
    assert.equal(await customImage(fx, image), undefined);
    await fx.settle();
    assert.equal(fx.sim.images.has(image), false, "the worker removed it from the runtime");
    const progress = await t.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: image });
    assert.equal(progress.RetCode, 8070);
    const again = await makeImage(fx, instance, { Name: name });
    await finishJobs(fx);
    assert.equal((await customImage(fx, again))?.Name, name);
    await fx.stopped(instance);
  });

  it("instances made from it keep working; it can no longer be used to make or rebuild one", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    await fx.stopped(instance);
    const child = await fx.running({ CompShareImageId: image });
    assert.equal(
      (await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: image })).RetCode,
      0,
    );
    await fx.settle();
    await fx.stopped(child);
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: child })).RetCode, 0);
    await fx.settle();
    const u = await fx.expectState(child, "Running");
    assert.deepEqual([u.CompShareImageId, u.CompShareImageStatus], [image, "UnAvailable"]);
    const create = await t.call("CreateCompShareInstance", createParams({ CompShareImageId: image }));
    assert.equal(create.RetCode, 230);
    await fx.stopped(child);
    const reinstall = await t.call("ReinstallCompShareInstance", {
      ...Z,
      UHostId: child,
      CompShareImageId: image,
    });
    assert.equal(reinstall.RetCode, 230, JSON.stringify(reinstall));
  });

  it("refused while Making (8073); unknown, another account's or deleted: 8070", async () => {
    const { t } = fx;
    const id = await fx.running();
    const making = await makeImage(fx, id);
    const busy = await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: making });
    assert.equal(busy.RetCode, 8073, JSON.stringify(busy));
    assert.match(String(busy.Message), /is \[Making\]; TerminateCompShareCustomImage needs it/);
    await finishJobs(fx);
    const stranger = await otherAccount(fx, "term");
    assert.equal(
      (await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: making }, stranger.keys))
        .RetCode,
      8070,
    );
    assert.equal(
      (await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: "compshareImage-nope1234" }))
        .RetCode,
      8070,
    );
    assert.equal(
      (await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: making })).RetCode,
      0,
    );
    assert.equal(
      (await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: making })).RetCode,
      8070,
    );
    await fx.stopped(id);
  });

  it("a failed image may be deleted; the zone may be left out (the official CLI sends it only when given)", async () => {
    const { t } = fx;
    const id = await fx.running();
    await t.call("EmulatorInjectFault", { Target: "Driver", Operation: "image", Message: "no", Count: 3 });
    const img = await makeImage(fx, id);
    await fx.exhaustDriverAttempts();
    assert.equal((await customImage(fx, img))?.Status, "UnAvailable");
    const r = await t.call("TerminateCompShareCustomImage", { Region: "cn-wlcb", CompShareImageId: img });
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    await fx.stopped(id);
  });

  it("race: a delete and a Create from the image at once, never an instance from a removed image; two deletes, one wins", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    await fx.stopped(instance);
    const [create, del] = await Promise.all([
      t.call("CreateCompShareInstance", createParams({ CompShareImageId: image })),
      t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: image }),
    ]);
    assert.equal(del.RetCode, 0);
    assert.ok(create.RetCode === 0 || create.RetCode === 230, JSON.stringify(create));
    await fx.settle();
    if (create.RetCode === 0) await fx.expectState((create.UHostIds as string[])[0] as string, "Running");
    const other = await makeImage(fx, instance);
    await finishJobs(fx);
    const twice = await Promise.all(
      [0, 1].map(() => t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: other })),
    );
    assert.deepEqual(twice.map((r) => r.RetCode).sort(), [0, 8070]);
  });
});
