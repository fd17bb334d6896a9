import type { IdGen } from "../domain/ids.js";
import type { TaskKind, TaskRecord } from "../domain/records.js";
import type { Driver } from "../drivers/driver.js";
import type { Repos, Store } from "../store/store.js";

/**
 * What a task handler reports: done (the task row is removed, by the handler's own transaction or
 * by the worker), or "run me again later" with why (a held lock, a driver failure to retry).
 * `removed`: the handler's own transaction already deleted the row, so the worker has nothing left
 * to complete (one write fewer per task; 100,000 scheduled stops are 200,000 tasks).
 */
export type TaskResult =
  | { done: true; note?: string; removed?: boolean }
  | { retryInMs: number; reason?: string };

/**
 * A failed driver step (an operation's, an image capture's) is tried again after 200 ms, 400 ms,
 * 800 ms…: the one backoff of driver retries, until the caller's attempts run out.
 */
export function retryDriverStep(attempts: number, reason: string): TaskResult {
  return { retryInMs: 200 * 2 ** attempts, reason };
}

/** Core's handler for one kind of task; the worker supplies the driver. */
export type TaskHandler = (task: TaskRecord, driver: Driver) => Promise<TaskResult>;

/**
 * A kind whose due tasks are run together: the worker hands it every task of that kind one claim
 * brought, and it answers for each, in order, as a settled promise would (a rejection is handled
 * as a single handler's throw). 100,000 scheduled stops due at once fire a batch per transaction,
 * not one transaction of ~8 statements each.
 */
export interface BatchTaskHandler {
  batch(tasks: TaskRecord[], driver: Driver): Promise<Array<PromiseSettledResult<TaskResult>>>;
}

/** Every kind of task and its handler: the worker dispatches on this table and nothing else. */
export type TaskHandlers = Record<TaskKind, TaskHandler | BatchTaskHandler>;

/** A task to queue: `subject` is what it acts on (an instance, a disk, an image). */
export interface NewTask {
  kind: TaskKind;
  subject: string;
  dueAt: number;
  payload?: Record<string, unknown>;
}

/**
 * Queues worker tasks in the caller's transaction, so they exist exactly when the change that
 * needs them does, in one statement. The column is named for the first kind of subject,
 * instances. Every one-off task is made here; a recurring one with {@link ensureRecurringTask}.
 */
export function queueTasks(r: Repos, ids: IdGen, tasks: readonly NewTask[], now: number): Promise<void> {
  return r.tasks.insert(
    tasks.map((t) => ({
      id: ids.next("task", 12),
      kind: t.kind,
      instanceId: t.subject,
      dueAt: t.dueAt,
      payload: t.payload ?? {},
    })),
    now,
  );
}

/** Queues one worker task in the caller's transaction (see {@link queueTasks}). */
export function queueTask(r: Repos, ids: IdGen, task: NewTask, now: number): Promise<void> {
  return queueTasks(r, ids, [task], now);
}

/**
 * Makes the one row of a recurring task (the monitoring collector, the audit retention) unless it
 * exists. Its id is fixed by its kind, so replicas starting together, restarts and an emulator
 * reset never make a second one; its handler keeps it by answering "again in N ms".
 */
export function ensureRecurringTask(
  r: Repos,
  kind: TaskKind,
  subject: string,
  dueAt: number,
  now: number,
): Promise<void> {
  return r.tasks.ensure({ id: `task-${kind}`, kind, instanceId: subject, dueAt, payload: {} }, now);
}

/**
 * The task queue as the worker sees it: claims with an expiry (each task runs once across
 * replicas), heartbeats, completion and postponement. SQL stays in the store.
 */
export class TaskQueue {
  constructor(private readonly store: Store) {}

  /**
   * Whether this process is the only one claiming (SQLite: one process, its claims one after
   * another), so that a claim that comes back short proves nothing else was due. On PostgreSQL a
   * claim also comes back short when another replica took rows it had chosen.
   */
  get soleClaimant(): boolean {
    return this.store.dialect === "sqlite";
  }

  claimDue(worker: string, now: number, claimMs: number, limit: number): Promise<TaskRecord[]> {
    return this.store.tasks.claimDue(worker, now, claimMs, limit);
  }

  extendClaims(ids: readonly string[], worker: string, until: number): Promise<void> {
    return this.store.tasks.extendClaims(ids, worker, until);
  }

  postpone(id: string, worker: string, dueAt: number): Promise<void> {
    return this.store.tasks.postpone(id, worker, dueAt);
  }

  complete(id: string, worker: string): Promise<void> {
    return this.store.tasks.complete(id, worker);
  }

  releaseClaims(worker: string): Promise<number> {
    return this.store.tasks.releaseClaims(worker);
  }

  anyDue(now: number): Promise<boolean> {
    return this.store.tasks.anyDue(now);
  }
}
