import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../../test/helpers.js";
import { createRunning, startTestServer } from "../../../test/helpers.js";
import type { TaskRecord } from "../../domain/records.js";
import type { Logger } from "../../log.js";
import { createLogger } from "../../log.js";
import type { Store } from "../../store/store.js";
import { TaskQueue } from "../tasks.js";
import { engineOf } from "./engine.test-support.js";
import { InstanceTimers } from "./timers.js";

const R = { Region: "cn-wlcb" };

let t: TestServer;

before(async () => {
  t = await startTestServer({}, {}, { http: false });
});
after(async () => {
  await t.close();
});

/** Timers over the server's store (or a stand-in for it), as the server builds them. */
function timersOver(store: Store, log?: Logger): InstanceTimers {
  return new InstanceTimers(store, engineOf(t, store), t.server.internals.clock, log);
}

/** `n` running instances, each with a stop scheduled an hour from now. */
async function scheduled(n: number): Promise<string[]> {
  await t.server.services.emulator?.reset();
  t.server.internals.worker.start();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await createRunning(t));
  const at = Math.floor(t.server.internals.clock.now() / 1000) + 3600;
  for (const id of ids)
    assert.equal(
      (await t.call("UpdateCompShareStopScheduler", { ...R, UHostId: id, StopTime: at })).RetCode,
      0,
    );
  await t.server.internals.worker.stop();
  return ids;
}

/** The due scheduled-stop tasks, claimed as the worker would, in `ids` order. */
async function claimed(ids: string[]): Promise<TaskRecord[]> {
  const { clock, store } = t.server.internals;
  clock.advance(3601_000);
  const tasks = (await new TaskQueue(store).claimDue("timers-test", clock.now(), 60_000, 1000)).filter(
    (k) => k.kind === "scheduled-stop",
  );
  return ids.map((id) => tasks.find((k) => k.instanceId === id) as TaskRecord);
}

const fulfilled = (value: unknown) => ({ status: "fulfilled", value });

describe("InstanceTimers.scheduledStops", () => {
  it("fires a batch in one Stop; a locked instance waits, a stopped one drops its schedule", async () => {
    const { store, db, clock } = t.server.internals;
    const [a, b, locked, stopped] = (await scheduled(4)) as [string, string, string, string];
    await db.run("UPDATE instances SET operation = 'Reboot', operation_expires_at = ? WHERE id = ?", [
      clock.now() + 7200_000,
      locked,
    ]);
    await db.run("UPDATE instances SET state = 'Stopped' WHERE id = ?", [stopped]);
    const tasks = await claimed([a, b, locked, stopped]);
    const outcomes = await timersOver(store).scheduledStops(tasks);
    assert.deepEqual(outcomes, [
      fulfilled({ done: true, removed: true }),
      fulfilled({ done: true, removed: true }),
      fulfilled({ retryInMs: 1000 }),
      fulfilled({ done: true }),
    ]);
    for (const id of [a, b]) {
      const inst = await store.instances.get(id);
      assert.deepEqual([inst?.state, inst?.operation, inst?.schedulerStopAt], ["Stopping", "Stop", null]);
      assert.deepEqual(
        (await store.tasks.of(id)).map((k) => [k.kind, k.payload.operation]),
        [["transition", "Stop"]],
        "the scheduled stop is replaced by the Stop's transition",
      );
      const kinds = (await store.events.ofResource(id, 50)).map((e) => e.kind);
      assert.ok(kinds.includes("schedule.fired") && kinds.includes("operation.started"), kinds.join());
    }
    const waiting = await store.instances.get(locked);
    assert.deepEqual(
      [waiting?.state, waiting?.operation],
      ["Running", "Reboot"],
      "a held lock is waited out",
    );
    assert.notEqual(waiting?.schedulerStopAt, null);
    assert.equal((await store.instances.get(stopped))?.schedulerStopAt, null, "nothing left to stop");
  });

  it("a batch that fails as a whole is fired again one instance at a time", async () => {
    const { store } = t.server.internals;
    const ids = await scheduled(3);
    const tasks = await claimed(ids);
    // The first transaction fails (a deadlock with another replica, say); later ones go through.
    let txs = 0;
    const flaky = new Proxy(store, {
      get(target, p) {
        if (p === "tx")
          return (fn: Parameters<Store["tx"]>[0]) =>
            ++txs === 1 ? Promise.reject(new Error("deadlock detected")) : target.tx(fn);
        const v = Reflect.get(target, p, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: "info", write: (line) => lines.push(JSON.parse(line)) });
    const outcomes = await timersOver(flaky, log).scheduledStops(tasks);
    assert.deepEqual(
      lines.map((l) => [l.level, l.stops, (l.err as { message?: string }).message]),
      [["warn", 3, "deadlock detected"]],
      "the failed batch is logged once",
    );
    assert.deepEqual(
      outcomes,
      ids.map(() => fulfilled({ done: true, removed: true })),
    );
    assert.equal(txs, 1 + ids.length, "the batch's transaction, then one per instance");
    for (const id of ids) assert.equal((await store.instances.get(id))?.state, "Stopping");
  });

  it("a task of an instance gone, without a schedule or whose schedule moved later is just done", async () => {
    const { store, db, clock } = t.server.internals;
    const [id, later] = (await scheduled(2)) as [string, string];
    const [task, laterTask] = (await claimed([id, later])) as [TaskRecord, TaskRecord];
    await db.run("UPDATE instances SET scheduler_stop_at = NULL WHERE id = ?", [id]);
    // Moved an hour on after its task was claimed (its new task is due then).
    await db.run("UPDATE instances SET scheduler_stop_at = ? WHERE id = ?", [clock.now() + 3600_000, later]);
    const gone = { ...task, id: "task-gone", instanceId: "uhost-gone" };
    assert.deepEqual(await timersOver(store).scheduledStops([task, gone, laterTask]), [
      fulfilled({ done: true }),
      fulfilled({ done: true }),
      fulfilled({ done: true }),
    ]);
    for (const i of [id, later]) assert.equal((await store.instances.get(i))?.state, "Running");
  });
});
