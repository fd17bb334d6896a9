import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("StopCompShareInstance", () => {
  it("Running → Stopping → Stopped; releases the GPUs", async () => {
    const { t } = fx;
    const id = await fx.running();
    const stop = fx.hold("stop");
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await stop.reached();
    await fx.expectState(id, "Stopping");
    stop.release();
    await fx.settle();
    const s = await fx.expectState(id, "Stopped");
    assert.equal(s.SshLoginCommand, "");
    assert.equal((await fx.gpusHeld()).length, 0);
    assert.equal(fx.sim.calls.stop, 1);
  });

  it("a call in the wrong state names the state; an unknown id or another zone is not found", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    const r = await t.call("StopCompShareInstance", { ...Z, UHostId: id });
    assert.equal(r.RetCode, 8041);
    assert.match(String(r.Message), /is \[Stopped\]; StopCompShareInstance is allowed only from \[Running\]/);
    const nf = await t.call("StopCompShareInstance", { ...Z, UHostId: "uhost-missing1" });
    assert.equal(nf.RetCode, 8039);
    const wrongZone = await t.call("StopCompShareInstance", {
      Region: "cn-bj2",
      Zone: "cn-bj2-02",
      UHostId: id,
    });
    assert.equal(wrongZone.RetCode, 8039);
  });

  it("spot instances need Force=true; an instance whose image is being made cannot stop", async () => {
    // Docs (Stop): Force is needed for Spot instances; not while an image is being made.
    const { t } = fx;
    const spot = await fx.running({ ChargeType: "Spot" });
    const r = await t.call("StopCompShareInstance", { ...Z, UHostId: spot });
    assert.equal(r.RetCode, 8043);
    assert.match(String(r.Message), /Force=true/);
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: spot, Force: true })).RetCode, 0);
    const other = await fx.running();
    await t.server.internals.db.run("UPDATE instances SET making_image = 1 WHERE id = ?", [other]);
    const img = await t.call("StopCompShareInstance", { ...Z, UHostId: other });
    assert.equal(img.RetCode, 8044);
  });

  it("a manual stop clears the scheduled stop", async () => {
    const { t } = fx;
    const a = await fx.running();
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    await t.call("UpdateCompShareStopScheduler", { Region: "cn-wlcb", UHostId: a, StopTime: now + 600 });
    await fx.stopped(a);
    assert.equal((await fx.describe(a))?.StopTime, 0);
    assert.equal(
      (
        await t.server.internals.db.all(
          "SELECT id FROM tasks WHERE instance_id = ? AND kind = 'scheduled-stop'",
          [a],
        )
      ).length,
      0,
    );
  });

  it("a stopped Postpay instance shows ReleaseTime = stop + 7 days and is released then", async () => {
    // Docs: a stopped Postpay instance is released 7 days after it stopped.
    const { t } = fx;
    const id = await fx.running({ ChargeType: "Postpay" });
    const u = await fx.stopped(id);
    // The stop completed (UpdateTime) and the release is due 7 days later.
    assert.equal(u.ReleaseTime, (u.UpdateTime as number) + 7 * 86400);
    t.server.internals.clock.advance((7 * 86400 + 1) * 1000);
    await fx.settle();
    assert.equal(await fx.describe(id), undefined);
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.deepEqual(
      (bin.UHostSet as Array<{ UHostId: string }>).map((x) => x.UHostId),
      [id],
    );
    const month = await fx.running({ ChargeType: "Month" });
    assert.equal((await fx.stopped(month)).ReleaseTime, 0);
  });

  it("race: 100 concurrent Stop calls on one instance, exactly one RetCode 0", async () => {
    const id = await fx.running();
    const stop = fx.hold("stop");
    const results = await Promise.all(
      Array.from({ length: 100 }, () => fx.t.call("StopCompShareInstance", { ...Z, UHostId: id })),
    );
    assert.equal(results.filter((r) => r.RetCode === 0).length, 1);
    assert.ok(results.every((r) => r.RetCode === 0 || r.RetCode === 8040 || r.RetCode === 8041));
    // The driver call is held, so every loser found the lock, not a moved state.
    assert.equal(results.filter((r) => r.RetCode === 8040).length, 99);
    await stop.reached();
    assert.equal(stop.waiting(), 1);
    stop.release();
    await fx.settle();
    await fx.expectState(id, "Stopped");
    assert.equal(fx.sim.calls.stop, 1);
  });
});
