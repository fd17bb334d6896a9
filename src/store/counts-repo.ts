import type { Db, Param } from "./db.js";
import type { Migration } from "./migrations.js";

/**
 * Bucket widths of the instance counts, as powers of two of milliseconds of `created_at`: about
 * 1 s, 17 min, 12 days and 35 years. Each level splits the one above into at most 1024 buckets, so
 * finding the instance at any offset reads at most 4 × 1024 small rows instead of walking past
 * every newer instance.
 */
export const SEEK_LEVELS = [40, 30, 20, 10] as const;
/** The level whose one bucket (`created_at >> 62` is 0) holds the total. */
export const TOTAL_LEVEL = 62;
const LEVELS = [...SEEK_LEVELS, TOTAL_LEVEL].sort((a, b) => a - b);
// The levels are part of migration 45's triggers: changing them needs a new migration.
/** Below this offset, walking the order index is cheaper than a descent through the buckets. */
export const SEEK_FROM = 1000;

const KEY = "project_id, in_recycle, zone, level, bucket";

/** The counts as they should be, from the instances: the finest level once, then summed up. */
const FINEST = SEEK_LEVELS[SEEK_LEVELS.length - 1] as number;
const FINE_CTE = `fine AS MATERIALIZED (SELECT project_id, in_recycle, zone, created_at >> ${FINEST} AS b, COUNT(*) AS n
  FROM instances GROUP BY project_id, in_recycle, zone, created_at >> ${FINEST})`;
const WANTED = LEVELS.map(
  (l) =>
    `SELECT project_id, in_recycle, zone, ${l} AS level, b >> ${l - FINEST} AS bucket, SUM(n) AS n FROM fine GROUP BY project_id, in_recycle, zone, b >> ${l - FINEST}`,
).join(" UNION ALL ");

/** SQLite: one upsert per level for the row `src` (NEW or OLD), adding `delta`. */
function sqliteUpsert(src: "NEW" | "OLD", delta: 1 | -1): string {
  return `INSERT INTO instance_counts (${KEY}, n)
    SELECT ${src}.project_id, ${src}.in_recycle, ${src}.zone, column1, ${src}.created_at >> column1, ${delta}
    FROM (VALUES ${LEVELS.map((l) => `(${l})`).join(", ")}) WHERE true
    ON CONFLICT (${KEY}) DO UPDATE SET n = n + excluded.n;`;
}

/**
 * Migration 45: how many instances each project has per zone and recycle state, in `created_at`
 * buckets of every level, kept by triggers in the same statement (so the same transaction) as
 * every insert, delete and move in or out of the recycle bin: whatever path writes the row, the
 * counts cannot drift, and a rolled-back or killed transaction takes its counts with it. Describe's
 * TotalCount, the quota and deep offsets read them instead of counting rows.
 *
 * On PostgreSQL the count rows one statement changes are upserted in key order (in_recycle 0
 * before 1, levels ascending), so a Terminate and a Recover that share buckets cannot deadlock.
 */
export const INSTANCE_COUNTS_MIGRATION: Migration = {
  id: 45,
  name: "instance-counts",
  sql: {
    sqlite: [
      `CREATE TABLE instance_counts (
        project_id TEXT NOT NULL, in_recycle BIGINT NOT NULL, zone TEXT NOT NULL,
        level BIGINT NOT NULL, bucket BIGINT NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (${KEY}))`,
      // Describe filtered by zone seeks by the same order.
      "CREATE INDEX instances_project_zone_order ON instances(project_id, in_recycle, zone, created_at, id)",
      `CREATE TRIGGER instance_counts_insert AFTER INSERT ON instances BEGIN ${sqliteUpsert("NEW", 1)} END`,
      `CREATE TRIGGER instance_counts_delete AFTER DELETE ON instances BEGIN ${sqliteUpsert("OLD", -1)} END`,
      `CREATE TRIGGER instance_counts_update AFTER UPDATE OF project_id, in_recycle, zone, created_at ON instances
        WHEN OLD.project_id IS NOT NEW.project_id OR OLD.in_recycle IS NOT NEW.in_recycle
          OR OLD.zone IS NOT NEW.zone OR OLD.created_at IS NOT NEW.created_at
        BEGIN ${sqliteUpsert("OLD", -1)} ${sqliteUpsert("NEW", 1)} END`,
      // The instances already there.
      `WITH ${FINE_CTE} INSERT INTO instance_counts (${KEY}, n) ${WANTED}`,
    ],
    postgres: [
      `CREATE TABLE instance_counts (
        project_id TEXT NOT NULL, in_recycle BIGINT NOT NULL, zone TEXT NOT NULL,
        level BIGINT NOT NULL, bucket BIGINT NOT NULL, n BIGINT NOT NULL,
        PRIMARY KEY (${KEY}))`,
      "CREATE INDEX instances_project_zone_order ON instances(project_id, in_recycle, zone, created_at, id)",
      // Statement-level with the changed rows as a table: a bulk insert or delete (MaxCount, the
      // emulator's reset) costs one upsert per bucket, not one per row and level.
      `CREATE FUNCTION instance_counts_rows() RETURNS trigger AS $$
      BEGIN
        INSERT INTO instance_counts (${KEY}, n)
          SELECT project_id, in_recycle, zone, l, created_at >> l,
                 CASE WHEN TG_OP = 'INSERT' THEN COUNT(*) ELSE -COUNT(*) END
          FROM changed, unnest(ARRAY[${LEVELS.join(", ")}]) AS l
          GROUP BY project_id, in_recycle, zone, l, created_at >> l ORDER BY 1, 2, 3, 4, 5
          ON CONFLICT (${KEY}) DO UPDATE SET n = instance_counts.n + EXCLUDED.n;
        RETURN NULL;
      END $$ LANGUAGE plpgsql`,
      `CREATE TRIGGER instance_counts_insert AFTER INSERT ON instances REFERENCING NEW TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION instance_counts_rows()`,
      `CREATE TRIGGER instance_counts_delete AFTER DELETE ON instances REFERENCING OLD TABLE AS changed
        FOR EACH STATEMENT EXECUTE FUNCTION instance_counts_rows()`,
      `CREATE FUNCTION instance_counts_moved() RETURNS trigger AS $$
      BEGIN
        INSERT INTO instance_counts (${KEY}, n)
          SELECT p, r, z, l, c >> l, SUM(d)
          FROM (VALUES (OLD.project_id, OLD.in_recycle, OLD.zone, OLD.created_at, -1),
                       (NEW.project_id, NEW.in_recycle, NEW.zone, NEW.created_at, 1)) AS v(p, r, z, c, d),
               unnest(ARRAY[${LEVELS.join(", ")}]) AS l
          GROUP BY p, r, z, l, c >> l ORDER BY 1, 2, 3, 4, 5
          ON CONFLICT (${KEY}) DO UPDATE SET n = instance_counts.n + EXCLUDED.n;
        RETURN NULL;
      END $$ LANGUAGE plpgsql`,
      `CREATE TRIGGER instance_counts_update AFTER UPDATE OF project_id, in_recycle, zone, created_at ON instances
        FOR EACH ROW WHEN ((OLD.project_id, OLD.in_recycle, OLD.zone, OLD.created_at)
          IS DISTINCT FROM (NEW.project_id, NEW.in_recycle, NEW.zone, NEW.created_at))
        EXECUTE FUNCTION instance_counts_moved()`,
      `WITH ${FINE_CTE} INSERT INTO instance_counts (${KEY}, n) ${WANTED}`,
    ],
  },
};

/** Which instances a count or a seek is over: one project's, in or out of the bin, maybe one zone. */
export interface CountScope {
  projectId: string;
  inRecycle: boolean;
  zone?: string;
}

/** Where the instance at an offset lies: the rows with `created_at >= before` are `skipped` many. */
export interface SeekPoint {
  before: number;
  skipped: number;
}

/** The instance counts the triggers keep (see {@link INSTANCE_COUNTS_MIGRATION}). */
export class CountsRepo {
  constructor(private readonly db: Db) {}

  private where(s: CountScope, level: number): { sql: string; params: Param[] } {
    const params: Param[] = [s.projectId, s.inRecycle ? 1 : 0, level];
    let sql = "project_id = ? AND in_recycle = ? AND level = ?";
    if (s.zone !== undefined) {
      sql += " AND zone = ?";
      params.push(s.zone);
    }
    return { sql, params };
  }

  /** How many instances are in scope, from the counts (a few rows, whatever the number of instances). */
  async total(s: CountScope): Promise<number> {
    const w = this.where(s, TOTAL_LEVEL);
    const rows = await this.db.all(
      `SELECT COALESCE(SUM(n), 0) AS n FROM instance_counts WHERE ${w.sql}`,
      w.params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Locks the account's row for a quota check, to the end of the transaction (PostgreSQL; NO KEY
   * UPDATE, as the GPU quota locks it; SQLite transactions are exclusive already).
   */
  async lockAccount(accountId: string): Promise<void> {
    if (this.db.dialect === "postgres")
      await this.db.all("SELECT id FROM accounts WHERE id = ? FOR NO KEY UPDATE", [accountId]);
  }

  /**
   * Instances an account holds outside the recycle bin (its quota counts these). With `lock`, the
   * account's row is locked on PostgreSQL (NO KEY UPDATE, as the GPU quota locks it), so two
   * creates of one account count one after the other (SQLite transactions are exclusive already).
   */
  async activeOfAccount(accountId: string, opts: { lock?: boolean } = {}): Promise<number> {
    if (opts.lock) await this.lockAccount(accountId);
    const rows = await this.db.all(
      `SELECT COALESCE(SUM(c.n), 0) AS n FROM instance_counts c JOIN projects p ON p.id = c.project_id
       WHERE p.account_id = ? AND c.in_recycle = 0 AND c.level = ?`,
      [accountId, TOTAL_LEVEL],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Descends the buckets, newest first, to the finest one holding the instance at `offset` (0 is
   * the newest); undefined when the counts do not reach that far.
   */
  async seek(s: CountScope, offset: number): Promise<SeekPoint | undefined> {
    let skipped = 0;
    let parent: { level: number; bucket: number } | undefined;
    for (const level of SEEK_LEVELS) {
      const w = this.where(s, level);
      let range = "";
      if (parent) {
        // The children of the parent bucket, in this level's units (arithmetic: JS shifts are 32-bit).
        const width = 2 ** (parent.level - level);
        range = " AND bucket >= ? AND bucket < ?";
        w.params.push(parent.bucket * width, (parent.bucket + 1) * width);
      }
      const rows = await this.db.all(
        `SELECT bucket, SUM(n) AS n FROM instance_counts WHERE ${w.sql}${range}
         GROUP BY bucket HAVING SUM(n) > 0 ORDER BY bucket DESC`,
        w.params,
      );
      const hit = rows.find((r) => {
        const n = Number(r.n);
        if (skipped + n > offset) return true;
        skipped += n;
        return false;
      });
      if (!hit) return undefined;
      parent = { level, bucket: Number(hit.bucket) };
    }
    if (!parent) return undefined;
    return { before: (parent.bucket + 1) * 2 ** parent.level, skipped };
  }

  /**
   * Start-up check: the counts against the instances, compared in one statement (one snapshot, so
   * a concurrent change on another replica cannot show as a difference). Rebuilds them when any
   * differ (a hand-edited store); returns how many count rows were wrong.
   */
  async repair(): Promise<number> {
    const wrong = Number(
      (
        await this.db.all(
          `WITH ${FINE_CTE}, want AS (${WANTED}), have AS (SELECT ${KEY}, n FROM instance_counts WHERE n <> 0)
           SELECT COUNT(*) AS n FROM want FULL JOIN have
             ON want.project_id = have.project_id AND want.in_recycle = have.in_recycle AND want.zone = have.zone
            AND want.level = have.level AND want.bucket = have.bucket
           WHERE want.n IS NULL OR have.n IS NULL OR want.n <> have.n`,
        )
      )[0]?.n ?? 0,
    );
    if (wrong === 0) return 0;
    await this.db.tx(async (tx) => {
      // No instance may change while the counts are rebuilt (writers on other replicas wait).
      if (tx.dialect === "postgres") await tx.run("LOCK TABLE instances IN SHARE ROW EXCLUSIVE MODE");
      await tx.run("DELETE FROM instance_counts");
      await tx.run(`WITH ${FINE_CTE} INSERT INTO instance_counts (${KEY}, n) ${WANTED}`);
    });
    return wrong;
  }
}
