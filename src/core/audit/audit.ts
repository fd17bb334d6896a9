import type { Clock } from "../../domain/clock.js";
import type { AuditRecord } from "../../domain/records.js";
import type { Logger } from "../../log.js";
import type { AuditFilter } from "../../store/audit-repo.js";
import type { Repos, Store } from "../../store/store.js";
import type { TaskResult } from "../tasks.js";
import { ensureRecurringTask } from "../tasks.js";

/** One entry as the gateway or the admin CLI hands it over; the time is the server clock's. */
export type AuditEntry = Omit<AuditRecord, "seq" | "at">;

/** The subject of the retention task (tasks name an instance; this one names the log). */
const AUDIT_TASK_SUBJECT = "audit-log";
/** How often the retention task runs. */
const PURGE_EVERY_MS = 3600_000;
/** Entries written together; a flood of them waits at most one flush interval. */
const FLUSH_BATCH = 500;
const FLUSH_EVERY_MS = 200;
/** Entries kept waiting while the store cannot take them; past it the oldest are dropped (and counted). */
const MAX_PENDING = 20_000;

/**
 * The audit log: every mutating call and every failed authentication, with who, from where,
 * what, on which resources and the outcome; readable by root (DescribeAuditLog, `ocs admin audit`).
 *
 * Entries are written right after the call, in batches, not inside the action's transaction:
 * failed calls and failed authentications have no transaction to ride in, one call may run
 * several transactions (or none) deep in core, and a write per request would put the store on
 * the request's path. The price is a window of at most one flush interval (200 ms) in which a
 * crash loses entries; the state changes themselves are never lost, as the event outbox records
 * each one in its own transaction.
 */
export class AuditLog {
  private pending: Array<Omit<AuditRecord, "seq">> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Entries dropped because the store could not take them in time (a metric). */
  dropped = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly retentionMs: number,
  ) {}

  /** Queues one entry; it reaches the store within one flush interval. */
  record(entry: AuditEntry): void {
    this.pending.push({ ...entry, at: this.clock.now() });
    if (this.pending.length > MAX_PENDING) {
      this.dropped += this.pending.length - MAX_PENDING;
      this.pending.splice(0, this.pending.length - MAX_PENDING);
    }
    if (this.pending.length >= FLUSH_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_EVERY_MS).unref();
  }

  /** Writes what is queued (one transaction per batch); a failure keeps the entries for the next try. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.writeAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writeAll(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, FLUSH_BATCH);
      try {
        await this.store.tx((r) => r.audit.insertMany(batch));
      } catch (e) {
        this.pending.unshift(...batch);
        this.log.error("audit log write failed; will retry", { err: e, pending: this.pending.length });
        this.timer ??= setTimeout(() => void this.flush(), 5 * FLUSH_EVERY_MS).unref();
        return;
      }
    }
  }

  /** A page of entries, newest first (what this replica still has queued is written first). */
  async page(
    filter: AuditFilter,
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: AuditRecord[] }> {
    await this.flush();
    return this.store.audit.page(filter, offset, limit);
  }

  /** The retention task: drops entries older than the retention, then runs again in an hour. */
  async purge(): Promise<TaskResult> {
    const removed = await this.store.audit.deleteBefore(this.clock.now() - this.retentionMs);
    if (removed > 0) this.log.info("audit log retention", { removed });
    return { retryInMs: PURGE_EVERY_MS };
  }

  /** Writes what is queued (SIGTERM, tests). */
  async close(): Promise<void> {
    await this.flush();
  }
}

/** Makes the audit log's recurring retention task unless it exists (start-up, emulator reset). */
export function ensureAuditRetention(r: Repos, now: number): Promise<void> {
  return ensureRecurringTask(r, "audit-retention", AUDIT_TASK_SUBJECT, now + PURGE_EVERY_MS, now);
}
