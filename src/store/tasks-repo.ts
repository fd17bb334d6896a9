import type { TaskKind, TaskRecord } from "../domain/records.js";
import type { Db, Row, WriteOptions } from "./db.js";

const taskFromRow = (r: Row): TaskRecord => ({
  id: String(r.id),
  kind: String(r.kind) as TaskKind,
  instanceId: String(r.instance_id),
  dueAt: Number(r.due_at),
  claimedBy: r.claimed_by == null ? null : String(r.claimed_by),
  claimExpiresAt: r.claim_expires_at == null ? null : Number(r.claim_expires_at),
  attempts: Number(r.attempts),
  payload: JSON.parse(String(r.payload ?? "{}")) as Record<string, unknown>,
});

/** How claims are written (see claimDue). */
const LEASE: WriteOptions = { durable: false };

/** The tasks table (work rows with a claim and an expiry): the only place its SQL lives. */
export class TasksRepo {
  constructor(private readonly db: Db) {}

  /** Inserts tasks in one statement (a batch of scheduled stops queues its transitions at once). */
  async insert(
    tasks: ReadonlyArray<Omit<TaskRecord, "claimedBy" | "claimExpiresAt" | "attempts">>,
    now: number,
  ): Promise<void> {
    if (tasks.length === 0) return;
    await this.db.run(
      `INSERT INTO tasks (id, kind, instance_id, due_at, claimed_by, claim_expires_at, attempts, payload, created_at) VALUES ${tasks.map(() => "(?, ?, ?, ?, NULL, NULL, 0, ?, ?)").join(", ")}`,
      tasks.flatMap((t) => [t.id, t.kind, t.instanceId, t.dueAt, JSON.stringify(t.payload), now]),
    );
  }

  /** Inserts a task with a fixed id unless it exists (a recurring timer, made once across replicas). */
  async ensure(t: Omit<TaskRecord, "claimedBy" | "claimExpiresAt" | "attempts">, now: number): Promise<void> {
    await this.db.run(
      "INSERT INTO tasks (id, kind, instance_id, due_at, claimed_by, claim_expires_at, attempts, payload, created_at) VALUES (?, ?, ?, ?, NULL, NULL, 0, ?, ?) ON CONFLICT (id) DO NOTHING",
      [t.id, t.kind, t.instanceId, t.dueAt, JSON.stringify(t.payload), now],
    );
  }

  async deleteOf(instanceId: string, kind?: TaskKind): Promise<void> {
    if (kind === undefined) await this.db.run("DELETE FROM tasks WHERE instance_id = ?", [instanceId]);
    else await this.deleteKinds([instanceId], [kind]);
  }

  /** Deletes the tasks of these kinds of these instances, in one statement. */
  async deleteKinds(instanceIds: readonly string[], kinds: readonly TaskKind[]): Promise<void> {
    if (instanceIds.length === 0 || kinds.length === 0) return;
    await this.db.run(
      `DELETE FROM tasks WHERE instance_id IN (${instanceIds.map(() => "?").join(", ")}) AND kind IN (${kinds.map(() => "?").join(", ")})`,
      [...instanceIds, ...kinds],
    );
  }

  async delete(id: string): Promise<void> {
    await this.db.run("DELETE FROM tasks WHERE id = ?", [id]);
  }

  async of(instanceId: string): Promise<TaskRecord[]> {
    return (await this.db.all("SELECT * FROM tasks WHERE instance_id = ? ORDER BY due_at", [instanceId])).map(
      taskFromRow,
    );
  }

  /**
   * Claims due tasks with one guarded update. The claim condition is repeated in the outer WHERE so
   * that on PostgreSQL a row another replica claimed meanwhile is re-checked and skipped.
   * PostgreSQL is handed the due ids as an array: given `id IN (subquery)` it planned a semi join
   * that read the whole table (5 ms a claim at 20,000 tasks, 31 ms at 100,000, and claims run one
   * after another), where the array probes the primary key once per id.
   * A claim is a lease: one lost to a power cut only means the task runs again, as it does after
   * any restart, so its commit does not wait for the disk.
   */
  async claimDue(worker: string, now: number, claimMs: number, limit: number): Promise<TaskRecord[]> {
    const due =
      "SELECT id FROM tasks WHERE due_at <= ? AND (claimed_by IS NULL OR claim_expires_at < ?) ORDER BY due_at, id LIMIT ?";
    const ids = this.db.dialect === "postgres" ? `id = ANY(ARRAY(${due}))` : `id IN (${due})`;
    const rows = await this.db.all(
      `UPDATE tasks SET claimed_by = ?, claim_expires_at = ?, attempts = attempts + 1
       WHERE ${ids} AND due_at <= ? AND (claimed_by IS NULL OR claim_expires_at < ?)
       RETURNING *`,
      [worker, now + claimMs, now, now, limit, now, now],
      LEASE,
    );
    return rows.map(taskFromRow);
  }

  /**
   * Keeps running tasks' claims alive (a slow driver call must not lose them to another replica),
   * in one statement for a whole batch.
   */
  async extendClaims(ids: readonly string[], worker: string, until: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.run(
      `UPDATE tasks SET claim_expires_at = ? WHERE id IN (${ids.map(() => "?").join(", ")}) AND claimed_by = ?`,
      [until, ...ids, worker],
      LEASE,
    );
  }

  /** Gives a task back with a new due time (a lock it must wait out, a transient failure). */
  async postpone(id: string, worker: string, dueAt: number): Promise<void> {
    await this.db.run(
      "UPDATE tasks SET claimed_by = NULL, claim_expires_at = NULL, due_at = ? WHERE id = ? AND claimed_by = ?",
      [dueAt, id, worker],
    );
  }

  async complete(id: string, worker: string): Promise<void> {
    await this.db.run("DELETE FROM tasks WHERE id = ? AND claimed_by = ?", [id, worker]);
  }

  /** Hands back every claim of one worker (SIGTERM), or of every worker (SQLite start: one process). */
  async releaseClaims(worker?: string): Promise<number> {
    if (worker === undefined)
      return this.db.run(
        "UPDATE tasks SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by IS NOT NULL",
      );
    return this.db.run("UPDATE tasks SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by = ?", [
      worker,
    ]);
  }

  /** Whether any task is due (claimed or not). */
  async anyDue(now: number): Promise<boolean> {
    return (await this.db.all("SELECT id FROM tasks WHERE due_at <= ? LIMIT 1", [now])).length > 0;
  }

  async removeAll(): Promise<void> {
    await this.db.run("DELETE FROM tasks");
  }
}
