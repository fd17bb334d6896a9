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
});
