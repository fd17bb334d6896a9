import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z, b64 } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("ReinstallCompShareInstance", () => {
  it("only Stopped, back to Stopped with the new image", async () => {
    const { t } = fx;
    const id = await fx.running();
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: id,
          CompShareImageId: "compshareImage-cuda124",
        })
      ).RetCode,
      8041,
    );
    await fx.stopped(id);
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: id,
          CompShareImageId: "compshareImage-nope",
        })
      ).RetCode,
      230,
    );
    const reinstall = fx.hold("reinstall");
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: id,
          CompShareImageId: "compshareImage-cuda124",
          Password: b64("NewPass123"),
        })
      ).RetCode,
      0,
    );
    await reinstall.reached();
    await fx.expectState(id, "Reinstalling");
    reinstall.release();
    await fx.settle();
    const u = await fx.expectState(id, "Stopped");
    assert.equal(u.CompShareImageId, "compshareImage-cuda124");
    assert.equal(u.Password, b64("NewPass123"));
    assert.equal(t.server.internals.sim!.calls.reinstall, 1);
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: "uhost-missing1",
          CompShareImageId: "compshareImage-cuda124",
        })
      ).RetCode,
      8039,
    );
  });

  it("keeps the password unless given, except from a VM image to a container image", async () => {
    // Docs (Reinstall): the password is kept, except when switching from a VM image to a container
    // image, where it is regenerated.
    const { t } = fx;
    const id = await fx.running({ Password: b64("Keep1234x") });
    await fx.stopped(id);
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: id,
          CompShareImageId: "compshareImage-cuda124",
        })
      ).RetCode,
      0,
    );
    await fx.settle();
    assert.equal((await fx.expectState(id, "Stopped")).Password, b64("Keep1234x"));
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: id,
          CompShareImageId: "compshareImage-pytorch21",
        })
      ).RetCode,
      0,
    );
    await fx.settle();
    const u = await fx.expectState(id, "Stopped");
    assert.equal(u.InstanceType, "Container");
    assert.notEqual(u.Password, b64("Keep1234x"), "a new password for the container image");
  });

  it("race: two concurrent Reinstalls, exactly one accepted, the other told the lock is held", async () => {
    const id = await fx.running();
    await fx.stopped(id);
    const reinstall = fx.hold("reinstall");
    const [won, lost] = await fx.race("ReinstallCompShareInstance", {
      ...Z,
      UHostId: id,
      CompShareImageId: "compshareImage-cuda124",
    });
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    // Reinstall ends where it began (Stopped): only the held lock tells the second call apart.
    assert.equal(lost?.RetCode, 8040, JSON.stringify([won, lost]));
    await reinstall.reached();
    reinstall.release();
    await fx.settle();
    await fx.expectState(id, "Stopped");
    assert.equal(fx.sim.calls.reinstall, 1);
  });
});
