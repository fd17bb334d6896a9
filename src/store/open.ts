import type { Config } from "../config.js";
import { sqlitePath } from "../config.js";
import type { Db } from "./db.js";
import { SqliteDb } from "./db.js";
import { MIGRATION_LOCK, migrate } from "./migrations.js";
import { PgDb } from "./pg.js";

/** Opens the configured store and brings its schema up to date (under a lock on PostgreSQL). */
export async function openDb(config: Config, startup?: (db: Db) => Promise<void>): Promise<Db> {
  if (config.databaseUrl?.startsWith("postgres")) {
    const db = new PgDb(config.databaseUrl);
    try {
      await db.withLock(MIGRATION_LOCK, async () => {
        await migrate(db);
        await startup?.(db);
      });
    } catch (e) {
      await db.close();
      throw new Error(`OCS_DATABASE_URL: cannot open PostgreSQL: ${(e as Error).message}`);
    }
    return db;
  }
  const db = new SqliteDb(sqlitePath(config));
  await migrate(db);
  await startup?.(db);
  return db;
}
