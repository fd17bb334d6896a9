import type { EventRecord } from "../domain/records.js";
import type { Db, Param, Row } from "./db.js";
import type { Migration } from "./migrations.js";

/** Advisory-lock key that serialises event writers on PostgreSQL ("evt" in ASCII). */
const EVENTS_LOCK = 0x657674;
/** The channel replicas LISTEN on to hear of new events at once. */
export const EVENTS_CHANNEL = "ocs_events";
/** store_meta key of the highest seq retention removed. */
const PRUNED_KEY = "events_pruned_through";

/**
 * Migration 48 (PostgreSQL): an event's seq is handed out as its transaction commits, by a
 * deferred trigger holding the writers' advisory lock. The lock used to be taken before the
 * events' INSERT, so it was held across that statement's and the COMMIT's round trips to the
 * client, and every event-writing transaction queued behind them (a burst of 100,000 scheduled
 * stops ran at a few hundred a second); now it is held for the commit alone, inside the server.
 * Rows carry a negative placeholder until then, which no other transaction can see.
 */
export const EVENTS_AT_COMMIT_MIGRATION: Migration = {
  id: 48,
  name: "events-seq-at-commit",
  sql: {
    sqlite: [],
    postgres: [
      "CREATE SEQUENCE events_pending_seq",
      `CREATE FUNCTION events_at_commit() RETURNS trigger AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(${EVENTS_LOCK});
        UPDATE events SET seq = nextval(pg_get_serial_sequence('events', 'seq')) WHERE seq = NEW.seq;
        PERFORM pg_notify('${EVENTS_CHANNEL}', '');
        RETURN NULL;
      END $$ LANGUAGE plpgsql`,
      `CREATE CONSTRAINT TRIGGER events_at_commit AFTER INSERT ON events
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq < 0) EXECUTE FUNCTION events_at_commit()`,
    ],
  },
};

/**
 * Migration 51 (PostgreSQL): the commit trigger's `UPDATE … WHERE seq = NEW.seq` is planned once
 * per connection, at its first commit, and the plan is kept until an ANALYZE of events. Planned
 * while the table was a page or two, it was a sequential scan: each event then cost a scan of the
 * whole table (a commit of 256 events took 6 ms at first and 31 ms once 2,500 more were in), so a
 * burst slowed down as it went until autovacuum analyzed the table. Without sequential scans the
 * plan is the primary key's index at any size.
 */
export const EVENTS_AT_COMMIT_PLAN_MIGRATION: Migration = {
  id: 51,
  name: "events-seq-at-commit-plan",
  sql: { sqlite: [], postgres: ["ALTER FUNCTION events_at_commit() SET enable_seqscan = off"] },
};

const eventFromRow = (r: Row): EventRecord => ({
  seq: Number(r.seq),
  at: Number(r.at),
  accountId: String(r.account_id),
  projectId: String(r.project_id),
  resourceType: String(r.resource_type) as EventRecord["resourceType"],
  resourceId: String(r.resource_id),
  kind: String(r.kind),
  data: JSON.parse(String(r.data ?? "{}")) as Record<string, unknown>,
});

/** Which events a reader may see. */
export interface EventFilter {
  /** Absent: every account's (the operator). */
  accountId?: string;
  projectIds?: string[];
  resourceIds?: string[];
}

/**
 * The event outbox. Inside a transaction, `record` buffers and the store writes the buffer just
 * before COMMIT (`flush`). Sequence numbers are handed out in commit order, so a reader that
 * resumes after a seq cannot miss a later-committing lower one: on PostgreSQL a rows gets a
 * placeholder and its seq at COMMIT, under one advisory lock (migration 48); SQLite transactions
 * are serialised already.
 */
export class EventsRepo {
  private pending: Array<Omit<EventRecord, "seq">> = [];

  constructor(
    private readonly db: Db,
    private readonly inTx: boolean,
  ) {}

  async record(e: Omit<EventRecord, "seq">): Promise<void> {
    if (this.inTx) this.pending.push(e);
    else await this.db.tx((tx) => new EventsRepo(tx, true).write([e]));
  }

  /** Writes what this transaction recorded (the store calls it before COMMIT); whether there was any. */
  async flush(): Promise<boolean> {
    if (this.pending.length === 0) return false;
    const batch = this.pending;
    this.pending = [];
    await this.write(batch);
    return true;
  }

  private async write(batch: Array<Omit<EventRecord, "seq">>): Promise<void> {
    const cols = "at, account_id, project_id, resource_type, resource_id, kind, data";
    const params = batch.flatMap((e): Param[] => [
      e.at,
      e.accountId,
      e.projectId,
      e.resourceType,
      e.resourceId,
      e.kind,
      JSON.stringify(e.data),
    ]);
    if (this.db.dialect === "postgres") {
      // A placeholder seq; the real one is handed out at COMMIT (migration 48).
      const row = "(-nextval('events_pending_seq'), ?, ?, ?, ?, ?, ?, ?)";
      await this.db.run(
        `INSERT INTO events (seq, ${cols}) VALUES ${batch.map(() => row).join(", ")}`,
        params,
      );
      return;
    }
    await this.db.run(
      `INSERT INTO events (${cols}) VALUES ${batch.map(() => "(?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
      params,
    );
  }

  /** Events after `seq` that the filter allows, oldest first. */
  async since(seq: number, filter: EventFilter, limit: number): Promise<EventRecord[]> {
    const where = ["seq > ?"];
    const params: Param[] = [seq];
    if (filter.accountId !== undefined) {
      where.push("account_id = ?");
      params.push(filter.accountId);
    }
    if (filter.projectIds) {
      if (filter.projectIds.length === 0) return [];
      where.push(`project_id IN (${filter.projectIds.map(() => "?").join(", ")})`);
      params.push(...filter.projectIds);
    }
    if (filter.resourceIds) {
      if (filter.resourceIds.length === 0) return [];
      where.push(`resource_id IN (${filter.resourceIds.map(() => "?").join(", ")})`);
      params.push(...filter.resourceIds);
    }
    const rows = await this.db.all(`SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`, [
      ...params,
      limit,
    ]);
    return rows.map(eventFromRow);
  }

  /** The newest events of one resource, newest first (an instance's history). */
  async ofResource(resourceId: string, limit: number): Promise<EventRecord[]> {
    const rows = await this.db.all("SELECT * FROM events WHERE resource_id = ? ORDER BY seq DESC LIMIT ?", [
      resourceId,
      limit,
    ]);
    return rows.map(eventFromRow);
  }

  /** The highest seq written so far (0 for none). */
  async lastSeq(): Promise<number> {
    const rows = await this.db.all("SELECT MAX(seq) AS s FROM events");
    return Number(rows[0]?.s ?? 0);
  }

  /**
   * The highest seq retention has removed (0 for none): a reader resuming from before it has lost
   * events. Kept apart from the table because seqs have holes (a rolled-back insert on PostgreSQL
   * still uses its number), so the oldest seq left cannot tell.
   */
  async prunedThrough(): Promise<number> {
    const rows = await this.db.all("SELECT value FROM store_meta WHERE key = ?", [PRUNED_KEY]);
    return Number(rows[0]?.value ?? 0);
  }

  /**
   * Retention: removes the events recorded before `at`, and any of a lower seq (so what is left is
   * always a whole tail), and remembers the highest seq removed. Replicas may run it together.
   */
  async prune(at: number): Promise<number> {
    return this.db.tx(async (tx) => {
      const rows = await tx.all("SELECT MAX(seq) AS s FROM events WHERE at < ?", [at]);
      const through = Number(rows[0]?.s ?? 0);
      if (through === 0) return 0;
      const removed = await tx.run("DELETE FROM events WHERE seq <= ?", [through]);
      // Only ever moves forward: a replica whose clock is behind must not lower it.
      await tx.run(
        `INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value =
           CASE WHEN CAST(store_meta.value AS BIGINT) < CAST(excluded.value AS BIGINT) THEN excluded.value ELSE store_meta.value END`,
        [PRUNED_KEY, String(through)],
      );
      return removed;
    });
  }
}
