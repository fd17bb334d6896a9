import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { finishJobs, makeImage, otherAccount } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("DescribeCompShareCustomImages", () => {
  it("the caller's images in the region, newest first, every status; paging as the other image lists", async () => {
    const { t } = fx;
    const id = await fx.running();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await makeImage(fx, id));
      await finishJobs(fx);
    }
    const making = await makeImage(fx, id);
    const all = await t.call("DescribeCompShareCustomImages", { ...Z });
    assert.equal(all.TotalCount, 4);
    const set = all.ImageSet as Array<{ CompShareImageId: string; Status: string; CreateTime: number }>;
    assert.deepEqual(
      set.map((i) => i.CompShareImageId),
      [making, ...ids.reverse()],
    );
    assert.deepEqual(
      set.map((i) => i.Status),
      ["Making", "Available", "Available", "Available"],
    );
    const page = await t.call("DescribeCompShareCustomImages", { ...Z, Offset: 1, Limit: 2 });
    assert.deepEqual(
      (page.ImageSet as typeof set).map((i) => i.CompShareImageId),
      ids.slice(0, 2),
    );
    const past = await t.call("DescribeCompShareCustomImages", { ...Z, Offset: 10 });
    assert.deepEqual([past.RetCode, past.TotalCount, past.ImageSet], [0, 4, []]);
    const one = await t.call("DescribeCompShareCustomImages", {
      Region: "cn-wlcb",
      CompShareImageId: ids[0] as string,
    });
    assert.deepEqual([one.TotalCount, (one.ImageSet as typeof set)[0]?.CompShareImageId], [1, ids[0]]);
    const elsewhere = await t.call("DescribeCompShareCustomImages", { Region: "cn-bj2" });
    assert.equal(elsewhere.TotalCount, 0);
    // No Region at all (the official CLI's lists send none): every region.
    assert.equal((await t.call("DescribeCompShareCustomImages", {})).TotalCount, 4);
    const over = await t.call("DescribeCompShareCustomImages", { ...Z, Limit: 101 });
    assert.equal(over.RetCode, 230);
    const stranger = await otherAccount(fx, "lister");
    assert.equal((await t.call("DescribeCompShareCustomImages", { ...Z }, stranger.keys)).TotalCount, 0);
    await finishJobs(fx);
    await fx.stopped(id);
  });

  it("DescribeCompShareImages keeps listing platform images; by id it finds a custom image the caller may use", async () => {
    const { t } = fx;
    const id = await fx.running();
    const img = await makeImage(fx, id);
    await finishJobs(fx);
    const list = await t.call("DescribeCompShareImages", { Region: "cn-wlcb", Limit: 100 });
    assert.ok(
      (list.ImageSet as Array<{ ImageType: string }>).every((i) => i.ImageType === "System"),
      "platform images only",
    );
    const byId = await t.call("DescribeCompShareImages", { Region: "cn-wlcb", CompShareImageId: img });
    assert.deepEqual(
      [byId.TotalCount, (byId.ImageSet as Array<{ ImageType: string }>)[0]?.ImageType],
      [1, "Custom"],
    );
    const stranger = await otherAccount(fx, "peek");
    const hidden = await t.call(
      "DescribeCompShareImages",
      { Region: "cn-wlcb", CompShareImageId: img },
      stranger.keys,
    );
    assert.equal(hidden.TotalCount, 0);
    await fx.stopped(id);
  });
});
