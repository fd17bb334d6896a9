import type { TaskHandlers, TaskQueue, TaskResult } from "../core/tasks.js";
import type { Clock } from "../domain/clock.js";
import { Conflict } from "../domain/errors.js";
import { randomId } from "../domain/ids.js";
import type { TaskRecord } from "../domain/records.js";
import type { Driver } from "../drivers/driver.js";
import type { Logger } from "../log.js";

/** What the worker needs of the task queue (core's TaskQueue; tests give an in-memory one). */
export type TaskRunnerQueue = Pick<
  TaskQueue,
  "claimDue" | "extendClaims" | "postpone" | "complete" | "releaseClaims" | "anyDue" | "soleClaimant"
>;

export interface WorkerOptions {
  /** How long a claim lasts before another replica may take the task over. */
  claimMs: number;
  /** Idle poll interval (a kick wakes the worker at once). */
  pollMs: number;
  /** Tasks run at once (a freed slot claims the next due task). */
  batch: number;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  claimMs: 60_000,
  pollMs: 250,
  // A task spends most of its time waiting (for the driver, for its read to see the writes queued
  // before it, for its group's commit), so more of them at once means fewer, larger commits: before
  // scheduled stops fired in batches, 20,000 of them due at once fired in 4.4 s at 32, 3.6 s at 64
  // and 3.2 s at 128 on SQLite (20.4 against 26.0 s on PostgreSQL, 32 against 128). The server sets
  // it from OCS_WORKER_CONCURRENCY.
  batch: 128,
};

/** How long a task that lost a race waits before it is tried again. */
const CONFLICT_RETRY_MS = 1000;
/** The longest backoff of a task whose handler failed unexpectedly. */
const MAX_BACKOFF_MS = 60_000;

/**
 * Claims due tasks and runs each through core's handler for its kind, with the driver. It knows
 * nothing of instances: a claim that lasts while the handler runs (extended by a heartbeat), the
 * handler's verdict (done, or again in N ms), and a capped backoff when a handler throws.
 */
export class Worker {
  readonly id = randomId("worker", 10);
  /** The next round: a timer, or for a kick an immediate (a 0 ms timer waits a whole millisecond). */
  private timer: { cancel(): void } | undefined;
  private pumping: Promise<void> | undefined;
  private stopping = false;
  private again = false;
  /** Runs in flight (a task, or a batch of one kind); a slot that frees claims the next due task at once. */
  private readonly active = new Set<Promise<void>>();
  /** Tasks in those runs: each takes a slot of `batch`. */
  private inFlight = 0;
  /** The last claim filled every free slot, so due tasks may be waiting for one. */
  private backlog = false;

  constructor(
    private readonly queue: TaskRunnerQueue,
    private readonly handlers: TaskHandlers,
    private readonly driver: Driver,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: WorkerOptions = DEFAULT_WORKER_OPTIONS,
  ) {}

  start(): void {
    this.stopping = false;
    this.schedule(0);
  }

  /** Wakes the worker now (a new task was queued, a slot freed, or the clock moved). */
  kick(): void {
    if (this.stopping) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /**
   * Stops taking new work, waits for every task in flight, then hands back any claim still held so
   * another replica takes it at once instead of waiting for the claim to expire (SIGTERM path).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.pumping;
    await Promise.allSettled([...this.active]);
    await this.queue.releaseClaims(this.id);
  }

  private schedule(ms: number): void {
    if (this.stopping) return;
    this.timer?.cancel();
    const round = () => {
      this.timer = undefined;
      this.pumping ??= this.pump().finally(() => {
        this.pumping = undefined;
        // A kick that came after the round's last look at `again` (its promise settles a tick
        // later) would otherwise wait for the poll.
        if (this.again) this.schedule(0);
      });
    };
    if (ms <= 0) {
      const h = setImmediate(round);
      this.timer = { cancel: () => clearImmediate(h) };
    } else {
      const h = setTimeout(round, ms);
      this.timer = { cancel: () => clearTimeout(h) };
    }
  }

  /**
   * Runs rounds until no task is due, including due tasks another round of this process has
   * claimed and is still running (tests use this to wait for the worker deterministically).
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.runOnce()) continue;
      if (!(await this.queue.anyDue(this.clock.now()))) return;
      if (Date.now() > deadline) throw new Error("worker did not drain in time");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Keeps up to `batch` tasks running: claims as many as there are free slots, starts each on its
   * own, and claims again whenever one finishes (a kick), so one slow driver call (an image pull, a
   * commit) never holds back the other due tasks of this replica.
   */
  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopping && this.inFlight < this.opts.batch) {
          const free = this.opts.batch - this.inFlight;
          const tasks = await this.queue.claimDue(this.id, this.clock.now(), this.opts.claimMs, free);
          for (const run of this.runs(tasks)) this.track(run);
          // Fewer than asked from the only claimant: nothing else was due. A task queued since
          // kicks (`again`), one that falls due later is found by the poll, so claiming again (now,
          // or when a run ends) would come back empty. With other replicas a short claim proves
          // nothing (they took some of its rows), so only an empty one ends the round.
          const full = tasks.length === free;
          this.backlog = full || !this.queue.soleClaimant;
          if (tasks.length === 0 || !this.backlog) break;
        }
      } while (this.again && !this.stopping);
    } catch (e) {
      this.log.error("worker round failed", { err: e });
    } finally {
      this.schedule(this.opts.pollMs);
    }
  }

  /** The claimed tasks as runs: those of a batch kind together, every other task alone. */
  private runs(tasks: TaskRecord[]): TaskRecord[][] {
    const out: TaskRecord[][] = [];
    const batches = new Map<string, TaskRecord[]>();
    for (const t of tasks) {
      const handler = this.handlers[t.kind];
      if (handler === undefined || typeof handler === "function") {
        out.push([t]);
        continue;
      }
      let run = batches.get(t.kind);
      if (!run) {
        run = [];
        batches.set(t.kind, run);
        out.push(run);
      }
      run.push(t);
    }
    return out;
  }

  private track(run: TaskRecord[]): void {
    this.inFlight += run.length;
    const running: Promise<void> = this.run(run)
      .catch((e) => this.log.error("worker round failed", { task: run[0]?.id, err: e }))
      .finally(() => {
        this.active.delete(running);
        this.inFlight -= run.length;
        // A freed slot claims at once only where due tasks may have been left for want of one
        // (an empty claim is a write transaction: two per transition in a stop/start cycle).
        if (this.backlog) this.kick();
      });
    this.active.add(running);
  }

  /** One claim-and-run round that waits for its tasks; true when it did something. */
  async runOnce(): Promise<boolean> {
    const tasks = await this.queue.claimDue(this.id, this.clock.now(), this.opts.claimMs, this.opts.batch);
    if (tasks.length === 0) return false;
    // Every task of the batch is waited for, even when one fails to record its outcome: a round
    // that ended early would let stop() hand back the claims of tasks still running.
    const results = await Promise.allSettled(this.runs(tasks).map((run) => this.run(run)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    return true;
  }

  private async run(run: TaskRecord[]): Promise<void> {
    // A slow driver call must not lose its claim to another replica: extend it while we work.
    const heartbeat = setInterval(
      () => {
        this.queue
          .extendClaims(
            run.map((t) => t.id),
            this.id,
            this.clock.now() + this.opts.claimMs,
          )
          .catch(() => {});
      },
      Math.max(50, this.opts.claimMs / 3),
    );
    try {
      const outcomes = await this.outcomes(run);
      const settled = await Promise.allSettled(
        run.map((task, i) => this.settle(task, outcomes[i] as PromiseSettledResult<TaskResult>)),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** What the handler of the run's kind answers for each of its tasks. */
  private async outcomes(run: TaskRecord[]): Promise<Array<PromiseSettledResult<TaskResult>>> {
    const first = run[0] as TaskRecord;
    const handler = this.handlers[first.kind];
    if (!handler) return run.map(() => failure(new Error(`no handler for task kind ${first.kind}`)));
    if (typeof handler === "function") {
      try {
        return [{ status: "fulfilled", value: await handler(first, this.driver) }];
      } catch (e) {
        return [failure(e)];
      }
    }
    try {
      const outcomes = await handler.batch(run, this.driver);
      // Matched to the tasks by position: a missing one would shift every later task's outcome.
      if (outcomes.length !== run.length)
        throw new Error(
          `the ${first.kind} handler answered ${outcomes.length} outcomes for ${run.length} tasks`,
        );
      return outcomes;
    } catch (e) {
      return run.map(() => failure(e));
    }
  }

  /** Records one task's outcome: done, again later, or failed (a lost race, or a capped backoff). */
  private async settle(task: TaskRecord, outcome: PromiseSettledResult<TaskResult>): Promise<void> {
    // Made only when there is something to log: most tasks finish without a line.
    const log = () => this.log.child({ task: task.id, kind: task.kind, instance: task.instanceId });
    let e: unknown;
    if (outcome.status === "fulfilled") {
      const result = outcome.value;
      try {
        if ("retryInMs" in result) {
          if (result.reason) log().warn("will retry", { attempt: task.attempts, reason: result.reason });
          await this.queue.postpone(task.id, this.id, this.clock.now() + result.retryInMs);
          return;
        }
        if (result.note) log().warn(result.note);
        if (!result.removed) await this.queue.complete(task.id, this.id);
        return;
      } catch (err) {
        e = err;
      }
    } else e = outcome.reason;
    if (e instanceof Conflict) {
      await this.queue.postpone(task.id, this.id, this.clock.now() + CONFLICT_RETRY_MS);
      return;
    }
    log().error("task failed", { err: e });
    await this.queue.postpone(
      task.id,
      this.id,
      this.clock.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** task.attempts),
    );
  }
}

const failure = (reason: unknown): PromiseRejectedResult => ({ status: "rejected", reason });
