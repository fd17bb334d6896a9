import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams } from "../../../test/helpers.js";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { availableImage, customImage, finishJobs, makeImage, otherAccount } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("custom images in Create, Reinstall, prices and Describe", () => {
  it("Create starts from a custom image: the driver gets its reference, Describe shows it with its base", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    await fx.stopped(instance);
    const name = (await customImage(fx, image))?.Name;
    const id = await fx.running({ CompShareImageId: image });
    assert.match(id, /^uhost-/, "a VM image's instance");
    assert.equal(fx.sim.instances.get(id)?.image, `sim-image:${image}`);
    const u = await fx.expectState(id, "Running");
    assert.deepEqual(
      [
        u.CompShareImageId,
        u.CompShareImageName,
        u.CompShareImageType,
        u.CompShareImageOwnerAlias,
        u.CompShareImageStatus,
        u.CompShareImageAuthor,
        u.BasicImageId,
        u.BasicImageName,
        u.OsName,
      ],
      [
        image,
        name,
        "Custom",
        "Custom",
        "Available",
        "root",
        "compshareImage-ubuntu2204",
        "Ubuntu 22.04",
        "Ubuntu 22.04 64位",
      ],
    );
    // An image of an instance made from a custom image keeps the platform image at its root.
    const second = await makeImage(fx, id);
    await finishJobs(fx);
    await fx.stopped(id);
    const again = await fx.running({ CompShareImageId: second });
    assert.equal((await fx.describe(again))?.BasicImageId, "compshareImage-ubuntu2204");
    const r = await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", Limit: 100 });
    assert.equal(r.RetCode, 0);
  });

  it("a container image's custom image makes container instances", async () => {
    const pod = await fx.running({ CompShareImageId: "compshareImage-pytorch21" });
    const image = await makeImage(fx, pod);
    await finishJobs(fx);
    assert.equal((await customImage(fx, image))?.Container, "True");
    await fx.stopped(pod);
    const from = await fx.running({ CompShareImageId: image });
    assert.match(from, /^cpod-/);
    assert.equal((await fx.describe(from))?.InstanceType, "Container");
  });

  it("Reinstall starts from a custom image; the password is kept, as from a platform image", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    await fx.stopped(instance);
    const target = await fx.running();
    const before = (await fx.stopped(target)).Password;
    const r = await t.call("ReinstallCompShareInstance", { ...Z, UHostId: target, CompShareImageId: image });
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    await fx.settle();
    const u = await fx.expectState(target, "Stopped");
    assert.deepEqual([u.CompShareImageId, u.CompShareImageType, u.Password], [image, "Custom", before]);
    assert.equal(fx.sim.instances.get(target)?.image, `sim-image:${image}`);
  });

  it("only an Available image of one's own or shared, in its region, is usable; prices and capacity accept it", async () => {
    const { t } = fx;
    const id = await fx.running();
    const making = await makeImage(fx, id);
    const busy = await t.call("CreateCompShareInstance", createParams({ CompShareImageId: making }));
    assert.equal(busy.RetCode, 8073, JSON.stringify(busy));
    assert.match(String(busy.Message), /is \[Making\]; CreateCompShareInstance needs it \[Available\]/);
    await finishJobs(fx);

    const price = await t.call("GetCompShareInstancePrice", {
      ...Z,
      GpuType: "4090",
      Gpu: 1,
      Cpu: 16,
      Memory: 65536,
      ChargeType: "Postpay",
      CompShareImageId: making,
    });
    assert.equal(price.RetCode, 0, JSON.stringify(price));
    assert.equal((price.PriceDetails as Array<{ CompShareImage: number }>)[0]?.CompShareImage, 0);
    const cap = await t.call("CheckCompShareResourceCapacity", {
      ...Z,
      GpuType: "4090",
      CompShareImageId: making,
    });
    assert.equal(cap.RetCode, 0, JSON.stringify(cap));

    const stranger = await otherAccount(fx, "stranger");
    const theirs = await t.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: making }),
      stranger.keys,
    );
    assert.equal(theirs.RetCode, 230);
    assert.match(String(theirs.Message), /image .* does not exist/);
    const elsewhere = await t.call(
      "CreateCompShareInstance",
      createParams({ Region: "cn-bj2", Zone: "cn-bj2-02", CompShareImageId: making }),
    );
    assert.equal(elsewhere.RetCode, 230, JSON.stringify(elsewhere));
    const unknown = await t.call("GetCompShareInstancePrice", {
      ...Z,
      GpuType: "4090",
      CompShareImageId: "compshareImage-nope",
    });
    assert.equal(unknown.RetCode, 230);
    await fx.stopped(id);
  });
});
