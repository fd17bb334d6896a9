import { Lru } from "../domain/lru.js";
import type { Db, Row } from "./db.js";
import type { Migration } from "./migrations.js";

/** The assignment a repository's UPDATE of a versioned table carries. */
export const BUMP = "version = version + 1";

/** Records kept per table (a page of 100 touches 100 instances and about 200 disks). */
const KEPT = 20_000;

/**
 * A `version` column that every change of a row bumps: a record read at a version is good exactly
 * while the row has it. The repositories' own UPDATEs bump it in the statement ({@link BUMP}); a
 * trigger bumps it for any other UPDATE (a migration, an operator's SQL), so none can forget it.
 * The trigger runs only when the statement left the version alone: on SQLite it re-updates the
 * row after the change (an extra write per update otherwise), on PostgreSQL it sets it before the
 * row is written. Only the row itself is touched, so no transaction locks more than it did.
 */
export function versionMigration(id: number, table: string): Migration {
  return {
    id,
    name: `${table}-version`,
    sql: {
      sqlite: [
        `ALTER TABLE ${table} ADD COLUMN version BIGINT NOT NULL DEFAULT 0`,
        `CREATE TRIGGER ${table}_version AFTER UPDATE ON ${table} FOR EACH ROW WHEN NEW.version = OLD.version
         BEGIN UPDATE ${table} SET version = OLD.version + 1 WHERE id = NEW.id; END`,
      ],
      postgres: [
        `ALTER TABLE ${table} ADD COLUMN version BIGINT NOT NULL DEFAULT 0`,
        `CREATE FUNCTION ${table}_version() RETURNS trigger AS $$
         BEGIN NEW.version := OLD.version + 1; RETURN NEW; END $$ LANGUAGE plpgsql`,
        `CREATE TRIGGER ${table}_version BEFORE UPDATE ON ${table} FOR EACH ROW
         WHEN (NEW.version = OLD.version) EXECUTE FUNCTION ${table}_version()`,
      ],
    },
  };
}

/**
 * Parsed records by id, each good while its row's `version` is the one it was read at: a read
 * asks the database for (id, version) and parses only the rows it has not seen at that version
 * (parsing 43 instance columns was most of a Describe page's store time). Validated on every read
 * against the database, so replicas and other processes writing the same store are seen at once;
 * bounded (what has not been read for a while goes first). Records handed out are frozen: they are
 * shared.
 */
export class VersionedCache<T extends { id: string }> {
  private readonly kept: Lru<string, { version: number; rec: T }>;
  constructor(max = KEPT) {
    this.kept = new Lru(max);
  }

  /**
   * The records of `keys` ((id, version) rows of `table`), in their order: cached ones as they
   * are, the others read whole by id in one statement and kept. A row changed between the two
   * statements is read at its newer version; one deleted meanwhile drops out.
   */
  async records(db: Db, table: string, keys: Row[], fromRow: (row: Row) => T): Promise<T[]> {
    const found = new Map<string, T>();
    const missing: string[] = [];
    for (const k of keys) {
      const rec = this.get(String(k.id), Number(k.version));
      if (rec) found.set(rec.id, rec);
      else missing.push(String(k.id));
    }
    if (missing.length > 0)
      for (const row of await db.all(
        `SELECT * FROM ${table} WHERE id IN (${missing.map(() => "?").join(", ")})`,
        missing,
      )) {
        const rec = this.set(Number(row.version), fromRow(row));
        found.set(rec.id, rec);
      }
    const out: T[] = [];
    for (const k of keys) {
      const rec = found.get(String(k.id));
      if (rec) out.push(rec);
    }
    return out;
  }

  private get(id: string, version: number): T | undefined {
    const hit = this.kept.get(id);
    return hit && hit.version === version ? hit.rec : undefined;
  }

  /** Keeps `rec` (frozen, with its own object fields) at `version`; returns it. */
  private set(version: number, rec: T): T {
    for (const v of Object.values(rec)) if (v !== null && typeof v === "object") Object.freeze(v);
    Object.freeze(rec);
    this.kept.set(rec.id, { version, rec });
    return rec;
  }
}
