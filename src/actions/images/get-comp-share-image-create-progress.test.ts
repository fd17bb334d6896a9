import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { finishJobs, makeImage, otherAccount, progressPast } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("GetCompShareImageCreateProgress", () => {
  it("Process grows with the job and stays below 100 until it is Available; the SDK types and the CLI's fields", async () => {
    const { t } = fx;
    const id = await fx.running();
    const img = await makeImage(fx, id);
    const first = await t.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: img });
    assert.equal(first.RetCode, 0);
    assert.equal(typeof first.Process, "number");
    assert.equal(typeof first.TotalDuration, "string");
    assert.equal(typeof first.RemainingDuration, "string");
    assert.ok((first.Process as number) < 100);
    t.server.internals.clock.advance(40_000);
    const late = await progressPast(fx, img, 70);
    assert.ok((late.Process as number) < 100, JSON.stringify(late));
    assert.deepEqual(
      [late.Status, late.State, late.Progress, late.Percent],
      ["Making", "Making", late.Process, late.Process],
    );
    await finishJobs(fx);
    // The official CLI's `image progress` sends no Zone.
    const done = await t.call("GetCompShareImageCreateProgress", {
      Region: "cn-wlcb",
      CompShareImageId: img,
    });
    assert.deepEqual(
      [done.Process, done.TotalDuration, done.RemainingDuration, done.Status, done.FailedReason],
      [100, "50", "0", "Available", ""],
    );
    await fx.stopped(id);
  });

  it("unknown or another account's image: 8070", async () => {
    const { t } = fx;
    const id = await fx.running();
    const img = await makeImage(fx, id);
    const stranger = await otherAccount(fx, "prog");
    assert.equal(
      (await t.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: img }, stranger.keys))
        .RetCode,
      8070,
    );
    assert.equal(
      (await t.call("GetCompShareImageCreateProgress", { ...Z, CompShareImageId: "compshareImage-zz" }))
        .RetCode,
      8070,
    );
    assert.equal((await t.call("GetCompShareImageCreateProgress", { ...Z })).RetCode, 210);
    await finishJobs(fx);
    await fx.stopped(id);
  });
});
