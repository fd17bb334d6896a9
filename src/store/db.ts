import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** A row as the driver returns it. */
export type Row = Record<string, unknown>;
/** Values we bind: SQL is written with `?` placeholders, portable across dialects. */
export type Param = string | number | null;

/** How a write (a statement outside a transaction, or a whole transaction) is committed. */
export interface WriteOptions {
  /**
   * false: the commit need not wait for the disk, so the change can be lost to a power cut or an
   * OS crash, never to a crash of the process (kill -9 included). Only for leases (a task's
   * claim): losing one costs a re-run of the task, which is what every SQLite start does anyway
   * (it hands back all claims). SQLite honours it; PostgreSQL commits such a write as any other.
   */
  durable?: boolean;
}

/**
 * The whole SQL surface the store needs (three methods, in the spirit of Kysely's Dialect).
 * `tx` runs `fn` in one transaction; everything inside uses the handle it is given.
 */
export interface Db {
  readonly dialect: "sqlite" | "postgres";
  all(sql: string, params?: Param[], opts?: WriteOptions): Promise<Row[]>;
  run(sql: string, params?: Param[], opts?: WriteOptions): Promise<number>;
  tx<T>(fn: (db: Db) => Promise<T>, opts?: WriteOptions): Promise<T>;
  close(): Promise<void>;
}

/** One queued write: a transaction body, or a single statement run as one. */
interface Write {
  /** Its place in the queue (1, 2, …). */
  seq: number;
  fn: (db: Db) => Promise<unknown>;
  /** Whether its commit must wait for the disk (WriteOptions.durable). */
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** The most writes one commit covers. */
const GROUP_MAX = 128;

/**
 * Makes the database file readable by this user only (0600), creating it empty if need be. SQLite
 * creates its -wal and -shm files with the database file's mode, so they follow; ones left from
 * before are tightened too.
 */
function privateFile(path: string): void {
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(p) && (statSync(p).mode & 0o077) !== 0) chmodSync(p, 0o600);
  }
}

/**
 * SQLite through better-sqlite3, with one writer connection and one reader.
 *
 * Writes (transactions and single write statements) queue for the writer and run one after
 * another, as SQLite allows one writer: two interleaved `BEGIN`s on one connection would
 * otherwise share a transaction. Writes queued behind each other share one commit (group commit):
 * each runs in its own savepoint, so one that fails is rolled back alone, and none is reported
 * done before the commit that makes it durable. With synchronous=FULL every commit waits for the
 * disk, so this is what lets a burst of transactions (100,000 scheduled stops due at once, many
 * creates) go faster than one disk flush each; a crash loses a whole group or nothing of it, and
 * nobody was told any of it had happened.
 *
 * Reads go to the reader connection, which sees only committed data (WAL): a read never sees a
 * write whose commit has not yet happened. A read waits only for the writes queued before it (as
 * when reads queued behind writes on one connection), so it sees everything written before it was
 * asked, and reads with nothing pending (most of them) run at once.
 * WAL mode and synchronous=FULL keep every committed change across a crash (non-negotiable 5);
 * a group made only of leases (WriteOptions.durable false) commits at synchronous=NORMAL, which
 * keeps it across a crash of the process but not across a power cut (every other group sets FULL
 * again before it begins).
 */
export class SqliteDb implements Db {
  readonly dialect = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly reader: Database.Database;
  private readonly writes: Write[] = [];
  private busy = false;
  private draining: Promise<void> = Promise.resolve();
  /** The last write queued, and the last one settled (committed, or failed): writes settle in order. */
  private queued = 0;
  private settled = 0;
  /** Reads waiting for the writes queued before them. */
  private readonly readers: Array<{ after: number; go: () => void }> = [];
  private readonly stmts = new Map<Database.Database, Map<string, Database.Statement>>();
  /** The writer's synchronous level now: FULL, or NORMAL after a group of leases. */
  private level: "FULL" | "NORMAL" = "FULL";

  constructor(path: string) {
    if (path !== ":memory:") {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      privateFile(path);
    }
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
    // A second connection to an in-memory database would be another, empty database.
    this.reader = path === ":memory:" ? this.db : new Database(path);
    if (this.reader !== this.db) {
      this.reader.pragma("busy_timeout = 5000");
      this.reader.pragma("query_only = ON");
    }
  }

  private prepare(on: Database.Database, sql: string): Database.Statement {
    let cache = this.stmts.get(on);
    if (!cache) {
      cache = new Map();
      this.stmts.set(on, cache);
    }
    let s = cache.get(sql);
    if (!s) {
      s = on.prepare(sql);
      if (cache.size > 500) cache.clear();
      cache.set(sql, s);
    }
    return s;
  }

  /** The writer, as the handle a transaction body (or a queued statement) uses. */
  private direct(): Db {
    return {
      dialect: "sqlite",
      all: async (sql, params = []) => {
        const s = this.prepare(this.db, sql);
        if (s.reader) return s.all(...params) as Row[];
        s.run(...params);
        return [];
      },
      run: async (sql, params = []) => this.prepare(this.db, sql).run(...params).changes,
      tx: (fn) => fn(this.direct()),
      close: async () => {},
    };
  }

  private write<T>(fn: (db: Db) => Promise<T>, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.writes.push({ seq: ++this.queued, fn, durable, resolve: resolve as (v: unknown) => void, reject });
      if (!this.busy) {
        this.busy = true;
        this.draining = this.drain();
      }
    });
  }

  /** Runs queued writes, each group of consecutive ones in one transaction with one commit. */
  private async drain(): Promise<void> {
    try {
      await this.runQueued();
    } catch (e) {
      // Only an unexpected failure of the queue itself (BEGIN or ROLLBACK refused) lands here.
      for (const w of this.writes.splice(0)) w.reject(e);
      this.settle(this.queued);
      this.busy = false;
    }
  }

  private async runQueued(): Promise<void> {
    const handle = this.direct();
    for (let first = this.writes.shift(); first; first = this.writes.shift()) {
      await this.runGroup(first, handle);
    }
    // In the same tick as the queue was found empty (no await since): a write queued from now on
    // starts a new drain.
    this.busy = false;
  }

  /** Sets the writer's synchronous level where it differs (a statement only between transactions). */
  private syncLevel(level: "FULL" | "NORMAL"): void {
    if (this.level === level) return;
    this.db.exec(`PRAGMA synchronous = ${level}`);
    this.level = level;
  }

  /** One group of queued writes, `first` and those behind it, in one transaction with one commit. */
  private async runGroup(first: Write, handle: Db): Promise<void> {
    // A group that begins with a lease takes only leases and commits without waiting for the disk:
    // every transition claims its task before it runs, and that claim's fsync (~0.3 ms here) was
    // half of the transition's disk waits. In WAL mode the next full commit's fsync makes the lease
    // durable too. The level can only change outside a transaction, so each group sets its own
    // before it begins; a durable write whose level cannot be set is refused, never committed
    // without waiting for the disk.
    const lazy = !first.durable;
    try {
      this.syncLevel(lazy ? "NORMAL" : "FULL");
      this.db.exec("BEGIN IMMEDIATE");
    } catch (e) {
      // The level refused (a closed connection), or another process held the database past
      // busy_timeout: this write fails, the next tries again.
      first.reject(e);
      this.settle(first.seq);
      return;
    }
    const done: Array<[Write, unknown]> = [];
    let lost: unknown;
    let ran = 0;
    let last = first.seq;
    // The write whose body runs now, until it is kept or rejected.
    let current: Write | undefined;
    try {
      const joins = () => ++ran < GROUP_MAX && (!lazy || this.writes[0]?.durable === false);
      for (let w: Write | undefined = first; w; w = joins() ? this.writes.shift() : undefined) {
        last = w.seq;
        current = w;
        this.db.exec("SAVEPOINT w");
        try {
          const value = await w.fn(handle);
          this.db.exec("RELEASE w");
          done.push([w, value]);
          current = undefined;
        } catch (e) {
          if (!this.db.inTransaction) {
            // SQLite gave up the whole transaction (an I/O error, a full disk): all of it is gone.
            current = undefined;
            w.reject(e);
            lost = e;
            break;
          }
          this.db.exec("ROLLBACK TO w");
          this.db.exec("RELEASE w");
          current = undefined;
          w.reject(e);
        }
      }
      if (lost === undefined) {
        try {
          this.db.exec("COMMIT");
        } catch (e) {
          lost = e;
          if (this.db.inTransaction) this.db.exec("ROLLBACK");
        }
      }
    } catch (e) {
      // The queue's own statements failed (a savepoint refused, a rollback that could not run):
      // nothing of this group is kept, every write of it is told so, and the connection is left
      // outside a transaction for the next group (else every later BEGIN would fail).
      lost = e;
      current?.reject(e);
      try {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
      } catch {
        // Nothing more can be done here; the next BEGIN reports what is wrong.
      }
    }
    for (const [w, value] of done) {
      if (lost === undefined) w.resolve(value);
      else w.reject(lost);
    }
    this.settle(last);
  }

  /** Every write up to `seq` has settled: the reads that waited for them go. */
  private settle(seq: number): void {
    this.settled = seq;
    while (this.readers[0] && this.readers[0].after <= seq) this.readers.shift()?.go();
  }

  async all(sql: string, params: Param[] = [], opts?: WriteOptions): Promise<Row[]> {
    // In memory the reader is the writer, which may be inside a group's open transaction whose
    // writes can still be rolled back: reads take their turn in the queue there.
    if (this.reader === this.db) return this.write((d) => d.all(sql, params), opts?.durable);
    const s = this.prepare(this.reader, sql);
    if (!s.readonly) return this.write((d) => d.all(sql, params), opts?.durable);
    const after = this.queued;
    if (this.settled < after) await new Promise<void>((go) => this.readers.push({ after, go }));
    return s.all(...params) as Row[];
  }

  run(sql: string, params?: Param[], opts?: WriteOptions): Promise<number> {
    return this.write((d) => d.run(sql, params), opts?.durable);
  }

  tx<T>(fn: (db: Db) => Promise<T>, opts?: WriteOptions): Promise<T> {
    return this.write(fn, opts?.durable);
  }

  /** Runs a multi-statement script (migrations only), committed as durably as any write. */
  exec(sql: string): void {
    this.syncLevel("FULL");
    this.db.exec(sql);
  }

  async close(): Promise<void> {
    await this.draining;
    if (this.reader !== this.db) this.reader.close();
    this.db.close();
  }
}
