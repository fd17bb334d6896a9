import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

const R = { Region: "cn-wlcb" };

async function scheduledStops(id: string) {
  return fx.t.server.internals.db.all(
    "SELECT id FROM tasks WHERE instance_id = ? AND kind = 'scheduled-stop'",
    [id],
  );
}

describe("DeleteCompShareStopScheduler", () => {
  it("cancels the scheduled stop: gone from Describe, and the clock passing it stops nothing", async () => {
    const { t } = fx;
    const id = await fx.running();
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    assert.equal(
      (await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, SchedulerStopTime: now + 3600 }))
        .RetCode,
      0,
    );
    assert.equal((await fx.describe(id))?.StopTime, now + 3600);
    assert.equal((await t.call("DeleteCompShareStopScheduler", { ...R, UHostId: id })).RetCode, 0);
    assert.equal((await fx.describe(id))?.StopTime, 0);
    assert.equal((await scheduledStops(id)).length, 0);
    t.server.internals.clock.advance(3601_000);
    await fx.settle();
    await fx.expectState(id, "Running");
    assert.equal(fx.sim.calls.stop, 0);
  });

  it("succeeds when none is set, in any state; an unknown id is not found", async () => {
    const { t } = fx;
    const id = await fx.running();
    assert.equal((await t.call("DeleteCompShareStopScheduler", { ...R, UHostId: id })).RetCode, 0);
    await fx.stopped(id);
    assert.equal((await t.call("DeleteCompShareStopScheduler", { ...R, UHostId: id })).RetCode, 0);
    assert.equal(
      (await t.call("DeleteCompShareStopScheduler", { ...R, UHostId: "uhost-missing1" })).RetCode,
      8039,
    );
    assert.equal((await t.call("DeleteCompShareStopScheduler", R)).RetCode, 210);
  });

  it("race: refused while an operation holds the lock; two concurrent deletes both succeed", async () => {
    const { t } = fx;
    const id = await fx.running();
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, StopTime: now + 3600 });
    const reboot = fx.hold("reboot");
    assert.equal((await t.call("RebootCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await reboot.reached();
    const busy = await t.call("DeleteCompShareStopScheduler", { ...R, UHostId: id });
    assert.equal(busy.RetCode, 8040);
    assert.equal((await scheduledStops(id)).length, 1, "the schedule stands");
    reboot.release();
    await fx.settle();
    const answers = await Promise.all(
      [0, 1].map(() => t.call("DeleteCompShareStopScheduler", { ...R, UHostId: id })),
    );
    assert.deepEqual(
      answers.map((r) => r.RetCode),
      [0, 0],
    );
    assert.equal((await fx.describe(id))?.StopTime, 0);
    assert.equal((await scheduledStops(id)).length, 0);
  });
});
