import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("RebootCompShareInstance", () => {
  it("Running → Rebooting → Running", async () => {
    const id = await fx.running();
    const reboot = fx.hold("reboot");
    assert.equal((await fx.t.call("RebootCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await reboot.reached();
    await fx.expectState(id, "Rebooting");
    reboot.release();
    await fx.settle();
    await fx.expectState(id, "Running");
    assert.equal(fx.sim.calls.reboot, 1);
    assert.equal((await fx.gpusHeld()).length, 1, "a reboot keeps the GPUs");
  });

  it("refused when Stopped, while an image is being made, and for an unknown id", async () => {
    // Docs (Reboot): only Running; not while an image is being made.
    const { t } = fx;
    const id = await fx.running();
    await t.server.internals.db.run("UPDATE instances SET making_image = 1 WHERE id = ?", [id]);
    const img = await t.call("RebootCompShareInstance", { ...Z, UHostId: id });
    assert.equal(img.RetCode, 8044);
    assert.match(String(img.Message), /Reboot is not allowed/);
    await t.server.internals.db.run("UPDATE instances SET making_image = 0 WHERE id = ?", [id]);
    await fx.stopped(id);
    const r = await t.call("RebootCompShareInstance", { ...Z, UHostId: id });
    assert.equal(r.RetCode, 8041);
    assert.match(
      String(r.Message),
      /is \[Stopped\]; RebootCompShareInstance is allowed only from \[Running\]/,
    );
    assert.equal(
      (await t.call("RebootCompShareInstance", { ...Z, UHostId: "uhost-missing1" })).RetCode,
      8039,
    );
    assert.equal(fx.sim.calls.reboot, 0);
  });

  it("race: two concurrent Reboots, exactly one accepted, the other told the lock is held", async () => {
    const id = await fx.running();
    const reboot = fx.hold("reboot");
    const [won, lost] = await fx.race("RebootCompShareInstance", { ...Z, UHostId: id });
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    // Reboot ends where it began (Running): only the held lock tells the second call apart.
    assert.equal(lost?.RetCode, 8040, JSON.stringify([won, lost]));
    await reboot.reached();
    reboot.release();
    await fx.settle();
    await fx.expectState(id, "Running");
    assert.equal(fx.sim.calls.reboot, 1);
  });
});
