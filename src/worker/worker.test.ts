import assert from "node:assert/strict";
import { afterEach, describe, it, mock } from "node:test";
import { Conflict } from "../domain/errors.js";
import type { TaskRecord } from "../domain/records.js";
import { gate, rig, stopWorkers, turns } from "./worker.test-support.js";

afterEach(async () => {
  mock.timers.reset();
  await stopWorkers();
});

describe("Worker", () => {
  it("a handler's { retryInMs } postpones the task by exactly that, on the worker's clock", async () => {
    const seen: Array<[TaskRecord, unknown]> = [];
    const { queue, clock, worker, driver, lines } = rig(async (task, d) => {
      seen.push([task, d]);
      return { retryInMs: 1234, reason: "driver busy" };
    });
    queue.add({ id: "t1" });
    clock.t = 5_000_000;
    assert.equal(await worker.runOnce(), true);
    const t = queue.tasks.get("t1");
    assert.deepEqual([t?.dueAt, t?.claimedBy, t?.attempts], [5_001_234, null, 1]);
    assert.equal(seen[0]?.[0].attempts, 1, "the handler sees the attempt its claim counted");
    assert.equal(seen[0]?.[1], driver, "the handler gets the worker's driver");
    const warn = lines.find((l) => l.msg === "will retry");
    assert.deepEqual(
      [warn?.level, warn?.task, warn?.attempt, warn?.reason],
      ["warn", "t1", 1, "driver busy"],
    );
    assert.equal(await worker.runOnce(), false, "not due again before its time");
    clock.t += 1234;
    assert.equal(await worker.runOnce(), true);
    assert.equal(queue.tasks.get("t1")?.attempts, 2);
  });

  it("{ done: true } completes the task; a note is logged as a warning", async () => {
    const { queue, worker, lines } = rig(async (task) =>
      task.id === "noted" ? { done: true, note: "driver destroy failed" } : { done: true },
    );
    queue.add({ id: "plain" });
    queue.add({ id: "noted" });
    assert.equal(await worker.runOnce(), true);
    assert.equal(queue.tasks.size, 0);
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.task]),
      [["warn", "driver destroy failed", "noted"]],
    );
    assert.equal(await worker.runOnce(), false);
  });

  it("{ done: true, removed: true } leaves the row to the handler's own transaction: no complete", async () => {
    const { queue, worker } = rig(async (task) => {
      // The handler's transaction deleted the row, as Stop does with its scheduled-stop task.
      queue.tasks.delete(task.id);
      return { done: true, removed: true };
    });
    queue.add({ id: "gone" });
    assert.equal(await worker.runOnce(), true);
    assert.ok(!queue.calls.includes("complete gone"), "no write for a row already deleted");
  });

  it("a thrown Conflict postpones by 1000 ms and is not logged as a failure", async () => {
    const { queue, clock, worker, lines } = rig(async () => {
      throw new Conflict();
    });
    queue.add({ id: "t1", attempts: 4 });
    assert.equal(await worker.runOnce(), true);
    const t = queue.tasks.get("t1");
    assert.deepEqual([t?.dueAt, t?.claimedBy], [clock.now() + 1000, null]);
    assert.deepEqual(lines, []);
  });

  it("another error postpones with backoff min(60 s, 1000·2^attempts) and is logged", async () => {
    const { queue, clock, worker, lines } = rig(async () => {
      throw new Error("boom");
    });
    // attempts before the claim → after it (the claim counts one): 1, 2, 5, 6, 10.
    const before = { a: 0, b: 1, c: 4, d: 5, e: 9 };
    for (const [id, attempts] of Object.entries(before)) queue.add({ id, attempts });
    assert.equal(await worker.runOnce(), true);
    const backoff = Object.keys(before).map((id) => (queue.tasks.get(id)?.dueAt ?? 0) - clock.now());
    assert.deepEqual(backoff, [2000, 4000, 32_000, 60_000, 60_000]);
    const failed = lines.filter((l) => l.msg === "task failed");
    assert.equal(failed.length, 5);
    assert.deepEqual(
      failed.map((l) => [l.level, l.task, l.kind, l.instance, (l.err as { message?: string }).message]),
      Object.keys(before).map((id) => ["error", id, "transition", `uhost-${id}`, "boom"]),
    );
  });

  it("a task of a kind with no handler fails the same way, with the kind named", async () => {
    const { queue, clock, worker, lines } = rig(async () => ({ done: true }));
    queue.add({ id: "t1", kind: "unknown-kind" as TaskRecord["kind"] });
    assert.equal(await worker.runOnce(), true);
    assert.equal(queue.tasks.get("t1")?.dueAt, clock.now() + 2000);
    assert.match(
      String((lines[0]?.err as { message?: string }).message),
      /no handler for task kind unknown-kind/,
    );
  });

  it(
    "the heartbeat extends the claim while a slow handler runs, and stops with it",
    { timeout: 5000 },
    async () => {
      mock.timers.enable({ apis: ["setInterval"] });
      const slow = gate();
      const entered = gate();
      const { queue, clock, worker } = rig(
        async () => {
          entered.open();
          await slow.promise;
          return { done: true };
        },
        { claimMs: 300 },
      );
      queue.add({ id: "t1" });
      const round = worker.runOnce();
      await entered.promise;
      const claimedUntil = clock.now() + 300;
      assert.equal(queue.tasks.get("t1")?.claimExpiresAt, claimedUntil);
      // Every claimMs/3 (100 ms here) the claim is pushed to now + claimMs.
      clock.t += 250;
      mock.timers.tick(100);
      await turns();
      assert.equal(queue.tasks.get("t1")?.claimExpiresAt, clock.now() + 300);
      clock.t += 250;
      mock.timers.tick(100);
      await turns();
      assert.equal(queue.tasks.get("t1")?.claimExpiresAt, clock.now() + 300);
      // Past the first claim's expiry, another replica still cannot take the task.
      assert.ok(clock.now() > claimedUntil);
      assert.deepEqual(await queue.claimDue("worker-other", clock.now(), 300, 10), []);
      slow.open();
      assert.equal(await round, true);
      assert.equal(queue.tasks.size, 0);
      const extensions = queue.calls.filter((c) => c.startsWith("extendClaims")).length;
      assert.equal(extensions, 2);
      mock.timers.tick(1000);
      await turns();
      assert.equal(queue.calls.filter((c) => c.startsWith("extendClaims")).length, extensions, "cleared");
    },
  );

  it(
    "stop() waits for the round in flight, then releases this worker's claims",
    { timeout: 5000 },
    async () => {
      const slow = gate();
      const entered = gate();
      const { queue, clock, worker } = rig(async () => {
        entered.open();
        await slow.promise;
        return { done: true };
      });
      queue.add({ id: "slow" });
      // Claims left behind (a write that failed after the claim): this worker's, and another's.
      const later = clock.now() + 60_000;
      queue.add({ id: "mine", dueAt: later, claimedBy: worker.id, claimExpiresAt: later });
      queue.add({ id: "theirs", dueAt: later, claimedBy: "worker-other", claimExpiresAt: later });
      worker.start();
      await entered.promise;
      let stopped = false;
      const stopping = worker.stop().then(() => {
        stopped = true;
      });
      await turns();
      assert.equal(stopped, false, "stop() waits for the handler in flight");
      assert.ok(!queue.calls.some((c) => c.startsWith("releaseClaims")));
      slow.open();
      await stopping;
      assert.ok(!queue.tasks.has("slow"), "the round in flight finished its task");
      assert.deepEqual(queue.calls.slice(-2), ["complete slow", `releaseClaims ${worker.id}`]);
      assert.equal(queue.tasks.get("mine")?.claimedBy, null);
      assert.equal(queue.tasks.get("theirs")?.claimedBy, "worker-other");
      // Stopped: a kick starts nothing.
      queue.add({ id: "after" });
      const claims = queue.calls.filter((c) => c.startsWith("claimDue")).length;
      worker.kick();
      await turns();
      assert.equal(queue.calls.filter((c) => c.startsWith("claimDue")).length, claims);
      assert.equal(queue.tasks.get("after")?.claimedBy, null);
    },
  );

  it(
    "a round waits for every task of its batch, even when one task's bookkeeping fails",
    { timeout: 5000 },
    async () => {
      const slow = gate();
      const entered = gate();
      const { queue, worker, lines } = rig(async (task) => {
        if (task.id !== "a-slow") throw new Error("boom");
        entered.open();
        await slow.promise;
        return { done: true };
      });
      queue.add({ id: "a-slow" });
      queue.add({ id: "b-broken" });
      // b-broken's handler fails and so does the postpone after it (the store went away).
      queue.failing.add("b-broken");
      worker.start();
      await entered.promise;
      await turns();
      let stopped = false;
      const stopping = worker.stop().then(() => {
        stopped = true;
      });
      try {
        await turns();
        assert.equal(stopped, false, "stop() waits for the slow task, though its batch-mate failed");
        assert.equal(
          queue.tasks.get("a-slow")?.claimedBy,
          worker.id,
          "no claim is handed back while it runs",
        );
      } finally {
        // Its heartbeat interval would otherwise keep the test process alive.
        slow.open();
      }
      await stopping;
      assert.ok(!queue.tasks.has("a-slow"));
      assert.equal(queue.tasks.get("b-broken")?.claimedBy, null, "the failed task's claim is handed back");
      assert.ok(lines.some((l) => l.msg === "worker round failed"));
    },
  );

  it("a slow task does not hold back a task that falls due while it runs", { timeout: 5000 }, async () => {
    const slow = gate();
    const entered = gate();
    const quick = gate();
    const { queue, worker } = rig(async (task) => {
      if (task.id === "slow") {
        entered.open();
        await slow.promise;
      } else quick.open();
      return { done: true };
    });
    queue.add({ id: "slow" });
    worker.start();
    await entered.promise;
    queue.add({ id: "quick" });
    worker.kick();
    try {
      await quick.promise;
      await turns();
      assert.ok(queue.tasks.has("slow"), "the slow one is still running");
      assert.ok(!queue.tasks.has("quick"), "the quick one ran and completed meanwhile");
    } finally {
      slow.open();
    }
  });

  it(
    "kick() during a round schedules another round; without it the task waits for the poll",
    { timeout: 5000 },
    async () => {
      for (const kick of [true, false]) {
        const claiming = gate();
        const held = gate();
        const ran = gate();
        const { queue, worker } = rig(async () => {
          ran.open();
          return { done: true };
        });
        // The first claim finds nothing and is held there: the task and the kick arrive meanwhile.
        queue.claimGate = async () => {
          queue.claimGate = undefined;
          claiming.open();
          await held.promise;
        };
        worker.start();
        await claiming.promise;
        queue.add({ id: "late" });
        if (kick) worker.kick();
        held.open();
        if (kick) {
          await ran.promise;
          assert.deepEqual(queue.calls.slice(0, 2), [`claimDue ${worker.id}`, `claimDue ${worker.id}`]);
        } else {
          await turns(20);
          assert.deepEqual(
            queue.calls,
            [`claimDue ${worker.id}`],
            "the round ended; the next is a poll away",
          );
          assert.equal(queue.tasks.get("late")?.claimedBy, null);
        }
        await worker.stop();
      }
    },
  );

  it("claims again only while due tasks may be waiting for a slot", { timeout: 5000 }, async () => {
    const ran: string[] = [];
    const done = gate();
    const { queue, worker } = rig(
      async (task) => {
        ran.push(task.id);
        if (ran.length === 5) done.open();
        return { done: true };
      },
      { batch: 2 },
    );
    const claims = () => queue.calls.filter((c) => c.startsWith("claimDue")).length;
    // Fewer due than free slots: one claim, and none after the task is done.
    queue.add({ id: "a" });
    worker.start();
    await turns(20);
    assert.deepEqual(ran, ["a"]);
    assert.equal(claims(), 1, "a claim that left slots free is not followed by an empty one");
    // More due than slots: each claim fills them, and a freed slot claims the rest at once.
    for (const id of ["b", "c", "d", "e"]) queue.add({ id });
    worker.kick();
    await done.promise;
    await turns(20);
    assert.deepEqual(ran, ["a", "b", "c", "d", "e"]);
    assert.equal(queue.tasks.size, 0);
    // b+c fill both slots, d+e fill them again, and the claim after finds nothing.
    assert.equal(claims(), 4);
  });

  it("with other claimants (PostgreSQL) only an empty claim ends a round", { timeout: 5000 }, async () => {
    const ran = gate();
    const { queue, worker } = rig(async () => {
      ran.open();
      return { done: true };
    });
    // There a claim also comes back short when another replica took rows it had chosen.
    queue.soleClaimant = false;
    queue.add({ id: "a" });
    worker.start();
    await ran.promise;
    await turns(20);
    // 1 of 32 (short), then an empty claim ends the round; a's end claims once more.
    assert.equal(queue.calls.filter((c) => c.startsWith("claimDue")).length, 3);
  });
});
