import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

// The lock-window test moves the emulator clock while a transition is in flight: a claim shorter
// than that jump would expire under the running task and let a second round take it over.
const fx = new InstanceFixture({ worker: { pollMs: 20, claimMs: 3_600_000 } });

const R = { Region: "cn-wlcb" };

async function scheduledStops(id: string) {
  return fx.t.server.internals.db.all(
    "SELECT due_at, attempts FROM tasks WHERE instance_id = ? AND kind = 'scheduled-stop'",
    [id],
  );
}

describe("UpdateCompShareStopScheduler", () => {
  it("≥ now+300 s, shown on Describe, fires when the clock reaches it", async () => {
    // Docs §3.2: the time must be ≥ now + 300 s; it is StopTime in the SDKs, SchedulerStopTime in the
    // docs, and shown as StopTime/StopSchedulerTime/SchedulerStopTime on the instance.
    const { t } = fx;
    const id = await fx.running();
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    const soon = await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, StopTime: now + 100 });
    assert.match(String(soon.Message), /Params \[StopTime\].*300/);
    assert.equal(
      (await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, SchedulerStopTime: now + 3600 }))
        .RetCode,
      0,
    );
    let u = await fx.describe(id);
    assert.deepEqual(
      [u?.StopTime, u?.StopSchedulerTime, u?.SchedulerStopTime],
      [now + 3600, now + 3600, now + 3600],
    );
    // Moving the schedule replaces it: one timer, at the new time.
    await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, StopTime: now + 600 });
    assert.equal((await scheduledStops(id)).length, 1);
    assert.equal((await fx.describe(id))?.StopTime, now + 600);
    t.server.internals.clock.advance(601_000);
    await fx.settle();
    u = await fx.expectState(id, "Stopped");
    assert.equal(u.StopTime, 0, "fired schedule is cleared");
    assert.equal(fx.sim.calls.stop, 1);
  });

  it("not for spot; the two time parameters must agree; one of them is required", async () => {
    // Docs §3.2: not allowed on Spot instances.
    const { t } = fx;
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    const spot = await fx.running({ ChargeType: "Spot" });
    const r = await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: spot, StopTime: now + 3600 });
    assert.equal(r.RetCode, 8045);
    assert.equal((await scheduledStops(spot)).length, 0);
    const id = await fx.running();
    const both = await t.call("UpdateCompShareStopScheduler", {
      ...R,
      UHostId: id,
      StopTime: now + 3600,
      SchedulerStopTime: now + 7200,
    });
    assert.equal(both.RetCode, 230);
    assert.match(String(both.Message), /SchedulerStopTime/);
    const none = await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id });
    assert.equal(none.RetCode, 210);
    assert.match(String(none.Message), /StopTime/);
    const nf = await t.call("UpdateCompShareStopScheduler", {
      ...R,
      UHostId: "uhost-missing1",
      StopTime: now + 3600,
    });
    assert.equal(nf.RetCode, 8039);
  });

  it("only while running or coming up: a stopped instance has nothing to stop", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    const r = await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, StopTime: now + 3600 });
    assert.equal(r.RetCode, 8041);
    assert.match(String(r.Message), /is \[Stopped\]/);
  });

  it("a held lock is waited out, never skipped", async () => {
    const { t } = fx;
    const { clock, worker } = t.server.internals;
    const id = await fx.running();
    const now = Math.floor(clock.now() / 1000);
    await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, StopTime: now + 600 });
    clock.advance(590_000);
    const reboot = fx.hold("reboot");
    assert.equal((await t.call("RebootCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await reboot.reached();
    // The stop falls due while the reboot's lock (10 minutes, docs §2.3) is live.
    clock.advance(11_000);
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 8040);
    // The due scheduled stop runs, in this round or in the worker's own (on PostgreSQL the
    // worker's poll often claims it first), and is postponed.
    await worker.runOnce();
    let [task] = await scheduledStops(id);
    for (let i = 0; i < 200 && !(Number(task?.due_at) > clock.now()); i++) {
      await new Promise((r) => setTimeout(r, 10));
      [task] = await scheduledStops(id);
    }
    assert.equal(Number(task?.attempts), 1, "the due scheduled stop ran once");
    assert.ok(Number(task?.due_at) > clock.now() && Number(task?.due_at) <= clock.now() + 1000, "postponed");
    const u = await fx.expectState(id, "Rebooting");
    assert.equal(u.StopTime, now + 600, "the schedule still stands");
    reboot.release();
    // The reboot finishes and frees the lock; then the clock reaches the postponed stop.
    await fx.settle();
    const [postponed] = await scheduledStops(id);
    if (postponed) clock.advance(Math.max(0, Number(postponed.due_at) - clock.now()));
    await fx.settle();
    assert.equal((await fx.expectState(id, "Stopped")).StopTime, 0);
    assert.deepEqual([fx.sim.calls.reboot, fx.sim.calls.stop], [1, 1]);
  });

  it("race: refused while an operation holds the lock; of two concurrent updates one timer remains", async () => {
    const { t } = fx;
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    const id = await fx.running();
    const stop = fx.hold("stop");
    const other = await fx.running();
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: other })).RetCode, 0);
    await stop.reached();
    const busy = await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: other, StopTime: now + 3600 });
    assert.equal(busy.RetCode, 8040);
    stop.release();
    await fx.settle();
    // An instant change takes no lock: both are accepted, and each replaces the other's timer in
    // the same transaction as the instance row, so exactly one timer stands, at the stored time.
    const answers = await Promise.all(
      [3600, 7200].map((s) =>
        t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, StopTime: now + s }),
      ),
    );
    assert.deepEqual(
      answers.map((r) => r.RetCode),
      [0, 0],
    );
    const tasks = await scheduledStops(id);
    assert.equal(tasks.length, 1);
    const shown = (await fx.describe(id))?.StopTime as number;
    assert.ok([now + 3600, now + 7200].includes(shown));
    assert.equal(Number(tasks[0]?.due_at), shown * 1000);
  });
});
