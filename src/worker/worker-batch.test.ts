import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { TaskResult } from "../core/tasks.js";
import { Conflict } from "../domain/errors.js";
import { rig, stopWorkers } from "./worker.test-support.js";

afterEach(stopWorkers);

describe("Worker: batch kinds", () => {
  it("a batch kind gets every task of its kind a claim brought in one call, each answered as alone", async () => {
    const singles: string[] = [];
    const batches: string[][] = [];
    const { queue, clock, worker, lines } = rig(
      async (task) => {
        singles.push(task.id);
        return { done: true };
      },
      { batch: 5 },
      {
        "scheduled-stop": {
          async batch(tasks) {
            batches.push(tasks.map((t) => t.id));
            const answers: Record<string, PromiseSettledResult<TaskResult>> = {
              s1: { status: "fulfilled", value: { done: true } },
              s2: { status: "fulfilled", value: { retryInMs: 500 } },
              s3: { status: "rejected", reason: new Conflict() },
              s4: { status: "rejected", reason: new Error("boom") },
            };
            return tasks.flatMap((t) => answers[t.id] ?? []);
          },
        },
      },
    );
    for (const id of ["s1", "s2", "s3", "s4", "s5"]) queue.add({ id, kind: "scheduled-stop" });
    queue.add({ id: "t1", dueAt: -1 });
    assert.equal(await worker.runOnce(), true);
    // The claim of 5 brought t1 and s1–s4: s5 waits for a free slot.
    assert.deepEqual(batches, [["s1", "s2", "s3", "s4"]]);
    assert.deepEqual(singles, ["t1"]);
    const due = (id: string) => (queue.tasks.get(id)?.dueAt ?? 0) - clock.now();
    assert.ok(!queue.tasks.has("s1") && !queue.tasks.has("t1"), "done: completed");
    assert.deepEqual([due("s2"), due("s3"), due("s4")], [500, 1000, 2000]);
    assert.deepEqual(
      lines.filter((l) => l.msg === "task failed").map((l) => l.task),
      ["s4"],
      "only the task that failed is logged as failed",
    );
    assert.equal(await worker.runOnce(), true);
    assert.deepEqual(batches[1], ["s5"]);
    // s5 had no answer from the batch handler: a handler bug, handled as a failure of the run.
    assert.equal(due("s5"), 2000);
    assert.match(
      String((lines.at(-1)?.err as { message?: string }).message),
      /scheduled-stop handler answered 0 outcomes for 1 tasks/,
    );
  });

  it("a batch handler that throws fails each of its tasks with the backoff", async () => {
    const { queue, clock, worker } = rig(
      async () => ({ done: true }),
      {},
      {
        "scheduled-stop": {
          async batch() {
            throw new Error("database gone");
          },
        },
      },
    );
    queue.add({ id: "a", kind: "scheduled-stop" });
    queue.add({ id: "b", kind: "scheduled-stop", attempts: 2 });
    assert.equal(await worker.runOnce(), true);
    assert.deepEqual(
      ["a", "b"].map((id) => (queue.tasks.get(id)?.dueAt ?? 0) - clock.now()),
      [2000, 8000],
    );
  });
});
