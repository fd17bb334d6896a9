import pg from "pg";
import type { Db, Param, Row } from "./db.js";

// BIGINT (epoch ms, counters) arrives as a string by default; every value we store fits a double.
pg.types.setTypeParser(20, (v) => Number(v));

/** `?` placeholders → `$n`. Our SQL never has a literal `?` inside quotes, so a plain scan is enough. */
export function toDollar(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

type Queryable = pg.Pool | pg.PoolClient;

function handle(q: Queryable, pool: PgDb): Db {
  return {
    dialect: "postgres",
    all: async (sql, params: Param[] = []) => (await q.query(toDollar(sql), params)).rows as Row[],
    run: async (sql, params: Param[] = []) => (await q.query(toDollar(sql), params)).rowCount ?? 0,
    tx: (fn) => (q === pool.pool ? pool.tx(fn) : fn(handle(q, pool))),
    close: async () => {},
  };
}

/**
 * PostgreSQL through a pg Pool. Each `tx` takes one connection for its whole life, so replicas and
 * concurrent requests get real, separate transactions; guarded updates make them safe under READ
 * COMMITTED (a row changed by another transaction is re-checked against the WHERE clause).
 */
export class PgDb implements Db {
  readonly dialect = "postgres" as const;
  readonly pool: pg.Pool;

  constructor(
    readonly url: string,
    max = 10,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    this.pool.on("error", () => {});
  }

  all(sql: string, params?: Param[]): Promise<Row[]> {
    return handle(this.pool, this).all(sql, params);
  }

  run(sql: string, params?: Param[]): Promise<number> {
    return handle(this.pool, this).run(sql, params);
  }

  async tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(handle(client, this));
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  /** Runs `fn` holding a session advisory lock, so two replicas starting together migrate one at a time. */
  async withLock<T>(key: number, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock($1)", [key]);
      try {
        return await fn();
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [key]);
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
