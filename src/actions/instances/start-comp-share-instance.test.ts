import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("StartCompShareInstance", () => {
  it("Stopped → Starting → Running; takes GPUs again on the same host", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    assert.equal((await fx.gpusHeld()).length, 0);
    const start = fx.hold("start");
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await start.reached();
    await fx.expectState(id, "Starting");
    start.release();
    await fx.settle();
    const u = await fx.expectState(id, "Running");
    assert.equal((await fx.gpusHeld()).length, 1);
    assert.match(String(u.SshLoginCommand), /^ssh root@/);
  });

  it("a call in the wrong state names the state and the allowed states; an unknown id is not found", async () => {
    const { t } = fx;
    const id = await fx.running();
    const r = await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    assert.equal(r.RetCode, 8041);
    assert.match(
      String(r.Message),
      /is \[Running\]; StartCompShareInstance is allowed only from \[Stopped\]/,
    );
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: "uhost-missing1" })).RetCode, 8039);
  });

  it("holds the operation lock until the transition finishes; an expired lock never blocks", async () => {
    // Docs §2.3: a per-instance operation lock with a 10-minute TTL (InstanceOperationInProgress).
    const { t } = fx;
    const id = await fx.running();
    const stop = fx.hold("stop");
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await stop.reached();
    const busy = await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    assert.equal(busy.RetCode, 8040);
    assert.match(String(busy.Message), /InstanceOperationInProgress/);
    const rename = await t.call("ModifyCompShareInstanceName", { Region: "cn-wlcb", UHostId: id, Name: "x" });
    assert.match(String(rename.Message), /InstanceOperationInProgress/);
    stop.release();
    await fx.settle();
    await fx.expectState(id, "Stopped");
    // A lock left by a crashed worker expires after 10 minutes of (emulated) time.
    await t.server.internals.db.run(
      "UPDATE instances SET operation = 'Start', operation_expires_at = ? WHERE id = ?",
      [t.server.internals.clock.now() + 600_000, id],
    );
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 8040);
    t.server.internals.clock.advance(600_001);
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await fx.settle();
    await fx.expectState(id, "Running");
  });

  it("Start needs free GPUs on the instance's own host, else points to WithoutGpu=true", async () => {
    const { t } = fx;
    const a = await fx.running();
    await fx.stopped(a);
    await fx.running();
    await fx.running();
    const r = await t.call("StartCompShareInstance", { ...Z, UHostId: a });
    assert.equal(r.RetCode, 8042);
    assert.match(String(r.Message), /Not enough GPUs of type 4090 on this host.*WithoutGpu=true/);
    assert.equal((await fx.describe(a))?.State, "Stopped", "nothing half-applied");
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: a, WithoutGpu: true })).RetCode, 0);
    await fx.settle();
    const u = await fx.expectState(a, "Running");
    assert.equal(u.GPU, 0);
    assert.equal(u.CPU, 2);
    assert.equal(u.Memory, 8192);
    assert.equal(u.InstancePrice, 0.1, "the no-GPU price: 2 CPU × 0.05");
    assert.equal((await fx.gpusHeld()).length, 2);
    const noGpu = await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", WithoutGpu: true });
    assert.deepEqual(
      (noGpu.UHostSet as Array<{ UHostId: string }>).map((x) => x.UHostId),
      [a],
    );
  });

  it("race: two concurrent Starts, exactly one accepted, the other told the lock is held", async () => {
    const id = await fx.running();
    await fx.stopped(id);
    const before = fx.sim.calls.start;
    const start = fx.hold("start");
    const [won, lost] = await fx.race("StartCompShareInstance", { ...Z, UHostId: id });
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    assert.equal(lost?.RetCode, 8040, JSON.stringify([won, lost]));
    await start.reached();
    start.release();
    await fx.settle();
    await fx.expectState(id, "Running");
    assert.equal(fx.sim.calls.start - before, 1, "one transition ran");
    assert.equal((await fx.gpusHeld()).length, 1);
  });

  it("WithoutGpuSpec A|B (the official CLI's start --without-gpu) picks the type's named no-GPU spec", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    assert.equal(
      (await t.call("StartCompShareInstance", { ...Z, UHostId: id, WithoutGpuSpec: "B" })).RetCode,
      0,
    );
    await fx.settle();
    let u = await fx.expectState(id, "Running");
    assert.deepEqual([u.GPU, u.CPU, u.Memory], [0, 4, 16384], "B: twice the A spec");
    assert.deepEqual(u.WithoutGpuSpec, { Cpu: 4, Gpu: 0, Memory: 16384 });
    assert.equal((await fx.gpusHeld()).length, 0);
    await fx.stopped(id);
    // WithoutGpu=true is spec A; a plain start after it takes the GPUs again.
    assert.equal(
      (await t.call("StartCompShareInstance", { ...Z, UHostId: id, WithoutGpu: true })).RetCode,
      0,
    );
    await fx.settle();
    u = await fx.expectState(id, "Running");
    assert.deepEqual([u.GPU, u.CPU, u.Memory], [0, 2, 8192]);
    await fx.stopped(id);
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await fx.settle();
    assert.equal((await fx.expectState(id, "Running")).GPU, 1);
    await fx.stopped(id);
    for (const [extra, re] of [
      [{ WithoutGpuSpec: "C" }, /\[WithoutGpuSpec\].*C is not a no-GPU spec of 4090; choose one of A, B/],
      [{ WithoutGpuSpec: "A", WithoutGpu: false }, /\[WithoutGpuSpec\].*WithoutGpu=false/],
    ] as const) {
      const r = await t.call("StartCompShareInstance", { ...Z, UHostId: id, ...extra });
      assert.equal(r.RetCode, 230);
      assert.match(String(r.Message), re);
    }
    assert.equal((await fx.expectState(id, "Stopped")).State, "Stopped", "nothing half-applied");
  });
});
