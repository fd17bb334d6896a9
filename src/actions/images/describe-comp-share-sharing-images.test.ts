import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture } from "../instances/fixtures.test-support.js";
import { finishJobs, makeImage, otherAccount } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("DescribeCompShareSharingImages", () => {
  it("images shared with the caller, newest first, by id, paged; not its own, not deleted ones", async () => {
    const { t } = fx;
    const id = await fx.running();
    const x = await makeImage(fx, id);
    await finishJobs(fx);
    const second = await makeImage(fx, id);
    await finishJobs(fx);
    const bob = await otherAccount(fx, "sharee");
    for (const img of [x, second])
      await t.call("ModifyCompShareImageShareAccount", {
        Region: "cn-wlcb",
        CompShareImageId: img,
        AddAccounts: [bob.number],
      });
    const all = await t.call("DescribeCompShareSharingImages", { Region: "cn-wlcb" }, bob.keys);
    assert.deepEqual(
      (all.ImageSet as Array<{ CompShareImageId: string }>).map((i) => i.CompShareImageId),
      [second, x],
    );
    const one = await t.call(
      "DescribeCompShareSharingImages",
      { Region: "cn-wlcb", CompShareImageId: x, Limit: 1 },
      bob.keys,
    );
    assert.equal(one.TotalCount, 1);
    const page = await t.call(
      "DescribeCompShareSharingImages",
      { Region: "cn-wlcb", Offset: 1, Limit: 1 },
      bob.keys,
    );
    assert.deepEqual(
      (page.ImageSet as Array<{ CompShareImageId: string }>).map((i) => i.CompShareImageId),
      [x],
    );
    assert.equal(
      (await t.call("DescribeCompShareSharingImages", { Region: "cn-wlcb" })).TotalCount,
      0,
      "own ones are not shared ones",
    );
    await t.call("TerminateCompShareCustomImage", { Region: "cn-wlcb", CompShareImageId: x });
    assert.equal(
      (await t.call("DescribeCompShareSharingImages", { Region: "cn-wlcb" }, bob.keys)).TotalCount,
      1,
    );
    await fx.stopped(id);
  });
});
