import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture } from "../instances/fixtures.test-support.js";
import { availableImage, otherAccount } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("DescribeCompShareImageShareAccounts", () => {
  it("lists the accounts in the order they were added, AccountId as a string; the owner only", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    const empty = await t.call("DescribeCompShareImageShareAccounts", {
      Region: "cn-wlcb",
      CompShareImageId: image,
    });
    assert.deepEqual(empty.AccountSet, []);
    const a = await otherAccount(fx, "first");
    const b = await otherAccount(fx, "second");
    await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: image,
      AddAccounts: [a.number],
    });
    t.server.internals.clock.advance(1000);
    await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: image,
      AddAccounts: [b.number],
    });
    const r = await t.call("DescribeCompShareImageShareAccounts", {
      Region: "cn-wlcb",
      CompShareImageId: image,
    });
    assert.deepEqual(r.AccountSet, [
      { AccountId: String(a.number), AccountName: a.name },
      { AccountId: String(b.number), AccountName: b.name },
    ]);
    const theirs = await t.call(
      "DescribeCompShareImageShareAccounts",
      { Region: "cn-wlcb", CompShareImageId: image },
      a.keys,
    );
    assert.equal(theirs.RetCode, 8070);
    await fx.stopped(instance);
  });
});
