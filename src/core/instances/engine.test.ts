import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../../test/helpers.js";
import { createParams, createRunning, sampleInstance, startTestServer } from "../../../test/helpers.js";
import type { InstanceRecord } from "../../domain/records.js";
import type { SimDriver } from "../../drivers/sim/sim-driver.js";
import { TaskQueue } from "../tasks.js";
import { BEGIN_MANY_MAX, type OperationEngine, explain } from "./engine.js";
import { engineOf } from "./engine.test-support.js";
import { systemScope } from "./scope.js";

const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
/** Not the default (3): the rule must follow the configured number. */
const ATTEMPTS = 4;

let t: TestServer;
let engine: OperationEngine;
let queue: TaskQueue;
let sim: SimDriver;

before(async () => {
  t = await startTestServer({}, { timings: { driverAttempts: ATTEMPTS } }, { http: false });
  sim = t.server.internals.sim as SimDriver;
  engine = engineOf(t);
  queue = new TaskQueue(t.server.internals.store);
});
after(async () => {
  await t.close();
});

/** A stopped instance, made through the server's own worker, which is then stopped: the test plays it. */
async function stoppedInstance(): Promise<string> {
  const { worker } = t.server.internals;
  await t.server.services.emulator?.reset();
  const r = await t.call("CreateCompShareInstance", createParams());
  const id = (r.UHostIds as string[])[0] as string;
  await worker.drain();
  assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
  await worker.drain();
  assert.equal((await t.describeOne(id))?.State, "Stopped");
  await worker.stop();
  return id;
}

describe("OperationEngine.runTask", () => {
  it("retries a failing driver step up to driverAttempts with backoff 200·2^attempts, then rolls back to onFail with the reason in Remark", async () => {
    const { store, clock, db } = t.server.internals;
    const id = await stoppedInstance();
    sim.injectFault({ op: "start", message: "engine exploded", count: ATTEMPTS });
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    const startsBefore = sim.calls.start;
    for (let attempt = 1; attempt < ATTEMPTS; attempt++) {
      const [task] = await queue.claimDue("engine-test", clock.now(), 60_000, 10);
      assert.ok(task, `attempt ${attempt} is due`);
      assert.equal(task.attempts, attempt, "each claim counts one attempt");
      const result = await engine.runTask(task, sim);
      assert.deepEqual(result, { retryInMs: 200 * 2 ** attempt, reason: "Start: engine exploded" });
      const inst = await store.instances.get(id);
      assert.deepEqual(
        [inst?.state, inst?.operation, inst?.lastError],
        ["Starting", "Start", null],
        "still locked, nothing rolled back yet",
      );
      await queue.postpone(task.id, "engine-test", clock.now() + 200 * 2 ** attempt);
      clock.advance(200 * 2 ** attempt);
    }
    const [last] = await queue.claimDue("engine-test", clock.now(), 60_000, 10);
    assert.equal(last?.attempts, ATTEMPTS);
    assert.deepEqual(await engine.runTask(last!, sim), {
      done: true,
      removed: true,
      note: "Start failed: engine exploded",
    });
    assert.equal(sim.calls.start - startsBefore, ATTEMPTS, "one driver call per attempt, no more");
    const inst = await store.instances.get(id);
    // Start's entry: onFail Stopped, and what it reserved is given back.
    assert.deepEqual(
      [inst?.state, inst?.operation, inst?.lastError, inst?.holdsCompute],
      ["Stopped", null, "engine exploded", false],
    );
    assert.deepEqual(await db.all("SELECT gpu_index FROM host_gpus WHERE instance_id = ?", [id]), []);
    assert.deepEqual(await store.tasks.of(id), [], "the task is finished in the same transaction");
    assert.match(String((await t.describeOne(id))?.Remark), /last operation failed: engine exploded/);
  });

  it("a task whose lock was taken over is dropped without a driver call", async () => {
    const { clock, db } = t.server.internals;
    const id = await stoppedInstance();
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    // The lock expired and another operation holds it now.
    await db.run("UPDATE instances SET operation = 'Resize' WHERE id = ?", [id]);
    const [task] = await queue.claimDue("engine-test", clock.now(), 60_000, 10);
    const starts = sim.calls.start;
    assert.deepEqual(await engine.runTask(task!, sim), { done: true });
    assert.equal(sim.calls.start, starts);
  });
});

describe("OperationEngine.beginMany", () => {
  it("answers each instance's refusal in order and begins the others, with one transition each", async () => {
    const { store, worker, db, clock } = t.server.internals;
    await t.server.services.emulator?.reset();
    worker.start();
    const [a, b, locked] = [await createRunning(t), await createRunning(t), await createRunning(t)];
    await worker.stop();
    await db.run("UPDATE instances SET operation = 'Reboot', operation_expires_at = ? WHERE id = ?", [
      clock.now() + 60_000,
      locked,
    ]);
    const scope = systemScope((await store.instances.get(a)) as InstanceRecord);
    const refusals = await engine.beginMany(
      [a, "uhost-nope", locked, b].map((id) => ({ scope, id })),
      "Stop",
      { force: false },
    );
    assert.deepEqual(
      refusals.map((e) => e?.retCode),
      [undefined, 8039, 8040, undefined],
    );
    for (const id of [a, b]) {
      assert.equal((await store.instances.get(id))?.state, "Stopping");
      assert.deepEqual(
        (await store.tasks.of(id)).map((k) => k.payload.operation),
        ["Stop"],
      );
    }
    assert.equal((await store.instances.get(locked))?.operation, "Reboot", "a refused instance is untouched");
    await assert.rejects(
      engine.beginMany(
        [
          { scope, id: a },
          { scope, id: a },
        ],
        "Stop",
        { force: false },
      ),
      /named twice/,
    );
    await assert.rejects(
      engine.beginMany(
        Array.from({ length: BEGIN_MANY_MAX + 1 }, (_, i) => ({ scope, id: `uhost-${i}` })),
        "Stop",
        { force: false },
      ),
      /at most 500/,
    );
    // Both are Stopping now; as Stopped, a Terminate of both would move their counts in row order.
    await db.run("UPDATE instances SET state = 'Stopped', operation = NULL WHERE id IN (?, ?)", [a, b]);
    await assert.rejects(
      engine.beginMany(
        [a, b].map((id) => ({ scope, id })),
        "Terminate",
        { releaseUDisk: true },
      ),
      /recycle bin: one at a time/,
    );
  });
});

describe("explain (a refused compare-and-swap)", () => {
  const now = 1_000_000;
  const stopped = sampleInstance("uhost-x", now, { state: "Stopped" });
  const locked = { ...stopped, operation: "Stop", operationExpiresAt: now + 60_000 };
  const allowed = ["Running", "Stopped"] as const;

  it("a lock held now is the reason, whatever the state", () => {
    assert.equal(explain(locked, "AttachCompshareDisk", allowed, now).retCode, 8040);
  });

  it("a lock let go between the CAS and the re-read is still the reason (PostgreSQL reads per statement)", () => {
    const e = explain(stopped, "AttachCompshareDisk", allowed, now, locked);
    assert.equal(e.retCode, 8040);
    assert.match(e.message, /locked by operation \[Stop\]/);
  });

  it("a state not allowed is the reason when no lock was met", () => {
    const running = { ...stopped, state: "Running" as const };
    assert.equal(explain(running, "StartCompShareInstance", ["Stopped"], now, locked).retCode, 8041);
  });
});
