import type { TaskKind, TaskRecord } from "../domain/records.js";
import type { Driver } from "../drivers/driver.js";
import type { Store } from "../store/store.js";

/**
 * What a task handler reports: done (the task row is removed, by the handler's own transaction or
 * by the worker), or "run me again later" with why (a held lock, a driver failure to retry).
 * `removed`: the handler's own transaction already deleted the row, so the worker has nothing left
 * to complete (one write fewer per task; 100,000 scheduled stops are 200,000 tasks).
 */
export type TaskResult =
  | { done: true; note?: string; removed?: boolean }
  | { retryInMs: number; reason?: string };

/** Core's handler for one kind of task; the worker supplies the driver. */
export type TaskHandler = (task: TaskRecord, driver: Driver) => Promise<TaskResult>;

/** Every kind of task and its handler: the worker dispatches on this table and nothing else. */
export type TaskHandlers = Record<TaskKind, TaskHandler>;

/**
 * The task queue as the worker sees it: claims with an expiry (each task runs once across
 * replicas), heartbeats, completion and postponement. SQL stays in the store.
 */
export class TaskQueue {
  constructor(private readonly store: Store) {}

  claimDue(worker: string, now: number, claimMs: number, limit: number): Promise<TaskRecord[]> {
    return this.store.tasks.claimDue(worker, now, claimMs, limit);
  }

  extendClaim(id: string, worker: string, until: number): Promise<void> {
    return this.store.tasks.extendClaim(id, worker, until);
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
