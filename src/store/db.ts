import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** A row as the driver returns it. */
export type Row = Record<string, unknown>;
/** Values we bind: SQL is written with `?` placeholders, portable across dialects. */
export type Param = string | number | null;

/**
 * The whole SQL surface the store needs (three methods, in the spirit of Kysely's Dialect).
 * `tx` runs `fn` in one transaction; everything inside uses the handle it is given.
 */
export interface Db {
  readonly dialect: "sqlite" | "postgres";
  all(sql: string, params?: Param[]): Promise<Row[]>;
  run(sql: string, params?: Param[]): Promise<number>;
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

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
 * SQLite through better-sqlite3. One connection, so transactions are serialised by an async mutex:
 * two interleaved `BEGIN`s on one connection would otherwise share a transaction.
 * WAL mode and synchronous=FULL keep every committed change across a crash (non-negotiable 5).
 */
export class SqliteDb implements Db {
  readonly dialect = "sqlite" as const;
  private readonly db: Database.Database;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stmts = new Map<string, Database.Statement>();

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
  }

  private prepare(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.stmts.size > 500) this.stmts.clear();
      this.stmts.set(sql, s);
    }
    return s;
  }

  private direct(): Db {
    return {
      dialect: "sqlite",
      all: async (sql, params = []) => {
        const s = this.prepare(sql);
        if (s.reader) return s.all(...params) as Row[];
        s.run(...params);
        return [];
      },
      run: async (sql, params = []) => this.prepare(sql).run(...params).changes,
      tx: (fn) => fn(this.direct()),
      close: async () => {},
    };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  all(sql: string, params?: Param[]): Promise<Row[]> {
    return this.exclusive(() => this.direct().all(sql, params));
  }

  run(sql: string, params?: Param[]): Promise<number> {
    return this.exclusive(() => this.direct().run(sql, params));
  }

  tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(this.direct());
        this.db.exec("COMMIT");
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw e;
      }
    });
  }

  /** Runs a multi-statement script (migrations only). */
  exec(sql: string): void {
    this.db.exec(sql);
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}
