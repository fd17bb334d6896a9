import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams } from "../../../test/helpers.js";
import type { ParamValue } from "../../protocol/encode.js";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";
import { availableImage, makeImage, otherAccount } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

async function rootNumber(): Promise<number> {
  return (await fx.t.server.services.accounts.accountByName("root"))!.number;
}

describe("ModifyCompShareImageShareAccount", () => {
  it("shares with an account by number: it sees the image and creates and reinstalls from it", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    await fx.stopped(instance);
    const bob = await otherAccount(fx, "bob");
    const r = await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: image,
      AddAccounts: [bob.number],
    });
    assert.deepEqual(r, {
      Action: "ModifyCompShareImageShareAccountResponse",
      RetCode: 0,
      InvalidAccounts: [],
    });

    const seen = await t.call("DescribeCompShareSharingImages", { Region: "cn-wlcb" }, bob.keys);
    const row = (seen.ImageSet as Array<Record<string, unknown>>)[0];
    assert.equal(seen.TotalCount, 1);
    assert.deepEqual(
      [row?.CompShareImageId, row?.ImageType, row?.Author, row?.Owner],
      [image, "Custom", "root", { AccountId: String(await rootNumber()), AccountName: "root" }],
    );
    const own = await t.call("DescribeCompShareCustomImages", { ...Z }, bob.keys);
    assert.equal(own.TotalCount, 0, "a shared image is not the receiver's own");

    const created = await t.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: image }),
      bob.keys,
    );
    assert.equal(created.RetCode, 0, JSON.stringify(created));
    const id = (created.UHostIds as string[])[0] as string;
    await fx.settle();
    const u = (
      (await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: [id] }, bob.keys))
        .UHostSet as Array<Record<string, unknown>>
    )[0];
    assert.deepEqual([u?.State, u?.CompShareImageId, u?.CompShareImageAuthor], ["Running", image, "root"]);
    assert.equal(fx.sim.instances.get(id)?.image, `sim-image:${image}`);
    await t.call("StopCompShareInstance", { ...Z, UHostId: id }, bob.keys);
    await fx.settle();
    const reinstall = await t.call(
      "ReinstallCompShareInstance",
      { ...Z, UHostId: id, CompShareImageId: image },
      bob.keys,
    );
    assert.equal(reinstall.RetCode, 0, JSON.stringify(reinstall));
    await fx.settle();

    // The receiver may use it, not manage it.
    for (const [action, extra] of [
      ["TerminateCompShareCustomImage", {}],
      ["UpdateCompShareImage", { Name: "mine" }],
      ["ModifyCompShareImageShareAccount", { AddAccounts: [await rootNumber()] }],
      ["GetCompShareImageCreateProgress", {}],
    ] as Array<[string, Record<string, ParamValue>]>) {
      const denied = await t.call(action, { ...Z, CompShareImageId: image, ...extra }, bob.keys);
      assert.equal(denied.RetCode, 8070, `${action}: ${JSON.stringify(denied)}`);
    }
  });

  it("numbers of no account, and the owner's own, come back as InvalidAccounts; the rest take effect", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    const carol = await otherAccount(fx, "carol");
    const r = await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: image,
      AddAccounts: [99_999_999, carol.number, await rootNumber()],
    });
    assert.deepEqual(r.InvalidAccounts, [99_999_999, await rootNumber()]);
    const accounts = await t.call("DescribeCompShareImageShareAccounts", {
      Region: "cn-wlcb",
      CompShareImageId: image,
    });
    assert.deepEqual(accounts.AccountSet, [{ AccountId: String(carol.number), AccountName: carol.name }]);
    // Sharing twice is sharing once; removing an account it is not shared with changes nothing.
    const twice = await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: image,
      AddAccounts: [carol.number],
      RemoveAccounts: [(await otherAccount(fx, "frank")).number],
    });
    assert.deepEqual(twice.InvalidAccounts, []);
    const after = await t.call("DescribeCompShareImageShareAccounts", {
      Region: "cn-wlcb",
      CompShareImageId: image,
    });
    assert.equal((after.AccountSet as unknown[]).length, 1);
    await fx.stopped(instance);
  });

  it("removing a share ends the receiver's use of it; its instances keep running", async () => {
    const { t } = fx;
    const { instance, image } = await availableImage(fx);
    await fx.stopped(instance);
    const dave = await otherAccount(fx, "dave");
    await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: image,
      AddAccounts: [dave.number],
    });
    const made = await t.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: image }),
      dave.keys,
    );
    const id = (made.UHostIds as string[])[0] as string;
    await fx.settle();
    const r = await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: image,
      RemoveAccounts: [dave.number],
    });
    assert.deepEqual(r.InvalidAccounts, []);
    assert.equal(
      (await t.call("DescribeCompShareSharingImages", { Region: "cn-wlcb" }, dave.keys)).TotalCount,
      0,
    );
    const again = await t.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: image }),
      dave.keys,
    );
    assert.equal(again.RetCode, 230);
    const u = (
      (await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: [id] }, dave.keys))
        .UHostSet as Array<Record<string, unknown>>
    )[0];
    assert.equal(u?.State, "Running");
    // A deleted image's shares go with it.
    await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: image,
      AddAccounts: [dave.number],
    });
    assert.equal(
      (await t.call("TerminateCompShareCustomImage", { ...Z, CompShareImageId: image })).RetCode,
      0,
    );
    assert.equal(
      (await t.call("DescribeCompShareSharingImages", { Region: "cn-wlcb" }, dave.keys)).TotalCount,
      0,
    );
  });

  it("refuses clearly: nothing to change, more than 10, a failed image, another account's image", async () => {
    const { t } = fx;
    const id = await fx.running();
    await t.call("EmulatorInjectFault", {
      Target: "Driver",
      Operation: "image",
      Message: "disk gone",
      Count: 3,
    });
    const failed = await makeImage(fx, id);
    await fx.exhaustDriverAttempts();
    const none = await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: failed,
    });
    assert.equal(none.RetCode, 210);
    const many = await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: failed,
      AddAccounts: Array.from({ length: 11 }, (_, i) => 10_000_100 + i),
    });
    assert.equal(many.RetCode, 230);
    const eve = await otherAccount(fx, "eve");
    const bad = await t.call("ModifyCompShareImageShareAccount", {
      Region: "cn-wlcb",
      CompShareImageId: failed,
      AddAccounts: [eve.number],
    });
    assert.equal(bad.RetCode, 8073, JSON.stringify(bad));
    const theirs = await t.call(
      "ModifyCompShareImageShareAccount",
      { Region: "cn-wlcb", CompShareImageId: failed, AddAccounts: [1] },
      eve.keys,
    );
    assert.equal(theirs.RetCode, 8070);
    await fx.stopped(id);
  });
});
