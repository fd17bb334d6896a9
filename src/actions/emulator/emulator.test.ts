import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";

const fx = new InstanceFixture();

describe("emulator controls", () => {
  it("root only; inject API and driver faults; the failure reason shows in Remark", async () => {
    const { t } = fx;
    const acct = await t.server.services.accounts.createAccount(`emu-${Date.now()}`);
    assert.equal((await t.call("EmulatorAdvanceClock", { Seconds: 1 }, acct.keyPair)).RetCode, 299);
    await t.call("EmulatorInjectFault", {
      FaultAction: "StartCompShareInstance",
      RetCode: 2001,
      Message: "injected",
      Count: 1,
    });
    const id = await fx.running();
    await fx.stopped(id);
    assert.deepEqual(await t.call("StartCompShareInstance", { ...Z, UHostId: id }), {
      Action: "StartCompShareInstanceResponse",
      RetCode: 2001,
      Message: "injected",
    });
    await t.call("EmulatorInjectFault", {
      Target: "Driver",
      Operation: "start",
      Message: "engine exploded",
      Count: 3,
    });
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    // README: driver faults are retried 3 times, then rolled back with the reason in Remark.
    await fx.exhaustDriverAttempts();
    const u = await fx.describe(id);
    assert.equal(u?.State, "Stopped");
    assert.match(String(u?.Remark), /engine exploded/);
    assert.equal((await fx.gpusHeld()).length, 0, "failed start gave its GPUs back");
    const st = await t.call("EmulatorStatus");
    assert.equal((st.DriverCalls as Record<string, number>).start, 4);
    await t.call("EmulatorReset");
    assert.equal((await t.call("DescribeCompShareInstance", { Region: "cn-wlcb" })).TotalCount, 0);
  });

  it("a reset after the clock moved leaves the recurring tasks due by the reset clock, once each", async () => {
    const { t } = fx;
    assert.equal((await t.call("EmulatorAdvanceClock", { Seconds: 7 * 86_400 })).RetCode, 0);
    assert.equal((await t.call("EmulatorReset")).RetCode, 0);
    const rows = await t.server.internals.db.all(
      "SELECT kind, due_at FROM tasks WHERE kind IN ('monitor-sample', 'audit-retention') ORDER BY kind",
    );
    assert.deepEqual(
      rows.map((r) => r.kind),
      ["audit-retention", "monitor-sample"],
    );
    const now = t.server.internals.clock.now();
    const due = new Map(rows.map((r) => [r.kind, Number(r.due_at)]));
    // Due within the hour (the collector at once, or one interval on if the worker ran it already;
    // the retention an hour on), not a week from now.
    for (const kind of ["monitor-sample", "audit-retention"])
      assert.ok((due.get(kind) ?? Number.NaN) <= now + 3600_000, `${kind}: ${JSON.stringify(rows)}`);
  });
});
