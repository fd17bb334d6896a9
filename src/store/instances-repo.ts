import type { DiskRecord, InstanceRecord } from "../domain/records.js";
import type { State } from "../domain/states.js";
import { CountsRepo, SEEK_FROM } from "./counts-repo.js";
import type { Db, Param, Row } from "./db.js";
import { diskFromRow } from "./disks-repo.js";
import { BUMP, VersionedCache, versionMigration } from "./versioned-cache.js";

/** Describe's instance records carry their row version (see {@link VersionedCache}). */
export const INSTANCE_VERSION_MIGRATION = versionMigration(49, "instances");

/** Column ↔ field map, kept once so inserts and reads cannot drift apart. */
const COLUMNS: Array<[keyof InstanceRecord, string, "s" | "n" | "b" | "ns" | "nn" | "j"]> = [
  ["id", "id", "s"],
  ["accountId", "account_id", "s"],
  ["projectId", "project_id", "s"],
  ["region", "region", "s"],
  ["zone", "zone", "s"],
  ["name", "name", "s"],
  ["tag", "tag", "s"],
  ["remark", "remark", "s"],
  ["state", "state", "s"],
  ["operation", "operation", "ns"],
  ["operationExpiresAt", "operation_expires_at", "nn"],
  ["instanceType", "instance_type", "s"],
  ["machineType", "machine_type", "s"],
  ["gpuType", "gpu_type", "s"],
  ["gpu", "gpu", "n"],
  ["cpu", "cpu", "n"],
  ["memory", "memory", "n"],
  ["cpuPlatform", "cpu_platform", "s"],
  ["withoutGpu", "without_gpu", "b"],
  ["withoutGpuSpec", "without_gpu_spec", "ns"],
  ["noGpuMode", "no_gpu_mode", "ns"],
  ["hostId", "host_id", "ns"],
  ["holdsCompute", "holds_compute", "b"],
  ["chargeType", "charge_type", "s"],
  ["imageId", "image_id", "s"],
  ["passwordSealed", "password_sealed", "s"],
  ["makingImage", "making_image", "b"],
  ["inRecycle", "in_recycle", "b"],
  ["recycledAt", "recycled_at", "nn"],
  ["releaseUdisk", "release_udisk", "b"],
  ["createdAt", "created_at", "n"],
  ["updatedAt", "updated_at", "n"],
  ["startedAt", "started_at", "nn"],
  ["stoppedAt", "stopped_at", "nn"],
  ["expireAt", "expire_at", "nn"],
  ["schedulerStopAt", "scheduler_stop_at", "nn"],
  ["releaseAt", "release_at", "nn"],
  ["lastError", "last_error", "ns"],
  ["accessHost", "access_host", "ns"],
  ["accessPort", "access_port", "nn"],
  ["ports", "ports", "j"],
  ["publishedPorts", "published_ports", "j"],
];

/** How a column's value becomes a field's, as an expression over `v`. */
const READ: Record<(typeof COLUMNS)[number][2], string> = {
  s: "String(v)",
  n: "Number(v)",
  b: "Number(v) === 1",
  nn: "v === null || v === undefined ? null : Number(v)",
  ns: "v === null || v === undefined ? null : String(v)",
  j: 'JSON.parse(String(v ?? "null"))',
};

/**
 * Row → record, compiled once from COLUMNS into one object literal: every record then has the
 * same shape, and a page of 100 no longer pays a loop with a type switch per column (it was a
 * tenth of a Describe page's time).
 */
const instanceFromRow = new Function(
  "r",
  `return { ${COLUMNS.map(([field, col, t]) => `${field}: ((v) => ${READ[t]})(r[${JSON.stringify(col)}])`).join(", ")} };`,
) as (r: Row) => InstanceRecord;

function toParam(v: unknown, t: string): Param {
  if (t === "b") return v ? 1 : 0;
  if (t === "j") return JSON.stringify(v);
  if (v === null || v === undefined) return null;
  return t === "n" || t === "nn" ? Number(v) : String(v);
}

/** Turns a partial record into `col = ?` assignments. */
function assignments(patch: Partial<InstanceRecord>): { sql: string; params: Param[] } {
  const parts: string[] = [];
  const params: Param[] = [];
  for (const [field, col, t] of COLUMNS) {
    if (field in patch) {
      parts.push(`${col} = ?`);
      params.push(toParam(patch[field], t));
    }
  }
  return { sql: parts.join(", "), params };
}

const INSERT = `INSERT INTO instances (${COLUMNS.map(([, c]) => c).join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`;

/** What the compare-and-swap checks besides the id (see {@link InstancesRepo.cas}). */
export interface CasGuard {
  states?: readonly State[];
  inRecycle?: boolean;
  now: number;
  /** Absent: no live lock may be held. A name: only that operation's lock. "any": lock not checked. */
  lockedBy?: string;
  /** When given, the instance's custom-image flag must be this. */
  makingImage?: boolean;
}

/** The guard's conditions, each prefixed with AND, to follow the id condition. */
function guarded(guard: CasGuard): { sql: string; params: Param[] } {
  let sql = "";
  const params: Param[] = [];
  if (guard.states) {
    sql += ` AND state IN (${guard.states.map(() => "?").join(", ")})`;
    params.push(...guard.states);
  }
  if (guard.inRecycle !== undefined) {
    sql += " AND in_recycle = ?";
    params.push(guard.inRecycle ? 1 : 0);
  }
  if (guard.makingImage !== undefined) {
    sql += " AND making_image = ?";
    params.push(guard.makingImage ? 1 : 0);
  }
  if (guard.lockedBy === undefined) {
    sql += " AND (operation IS NULL OR operation_expires_at < ?)";
    params.push(guard.now);
  } else if (guard.lockedBy !== "any") {
    sql += " AND operation = ?";
    params.push(guard.lockedBy);
  }
  return { sql, params };
}

/** A page of instances, and the disks of each (see {@link InstancesRepo.describe}). */
export interface DescribePage {
  total: number;
  rows: InstanceRecord[];
  disks: Map<string, DiskRecord[]>;
}

export interface DescribeFilter {
  projectId: string;
  zone?: string;
  ids?: string[];
  tag?: string;
  /** Only instances running (or not) without GPU. */
  withoutGpu?: boolean;
  offset: number;
  limit: number;
}

/** The instances table: the only place its SQL lives. */
export class InstancesRepo {
  private readonly counts: CountsRepo;
  constructor(
    private readonly db: Db,
    private readonly cache = new VersionedCache<InstanceRecord>(0),
    private readonly diskCache = new VersionedCache<DiskRecord>(0),
  ) {
    this.counts = new CountsRepo(db);
  }

  async insert(rec: InstanceRecord): Promise<void> {
    await this.db.run(
      INSERT,
      COLUMNS.map(([f, , t]) => toParam(rec[f], t)),
    );
  }

  async get(id: string): Promise<InstanceRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM instances WHERE id = ?", [id]);
    return rows[0] ? instanceFromRow(rows[0]) : undefined;
  }

  /** The instances of `ids` that exist, in no particular order, in one statement. */
  async getMany(ids: readonly string[]): Promise<InstanceRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.all(`SELECT * FROM instances WHERE id IN (${ids.map(() => "?").join(", ")})`, [
      ...ids,
    ]);
    return rows.map(instanceFromRow);
  }

  /**
   * The compare-and-swap every mutation goes through: the patch applies only if the instance is in
   * one of `states` (when given), is (or is not) in the recycle bin, and holds no live lock (unless
   * `lockedBy` names the operation that holds it). Returns whether the row changed.
   */
  async cas(id: string, guard: CasGuard, patch: Partial<InstanceRecord>): Promise<boolean> {
    const a = assignments(patch);
    const g = guarded(guard);
    return (
      (await this.db.run(`UPDATE instances SET ${a.sql}, ${BUMP} WHERE id = ?${g.sql}`, [
        ...a.params,
        id,
        ...g.params,
      ])) === 1
    );
  }

  /**
   * The same compare-and-swap, with the same patch, for many instances in one statement; returns
   * the ids it changed (the others failed the guard, or do not exist).
   */
  async casMany(ids: readonly string[], guard: CasGuard, patch: Partial<InstanceRecord>): Promise<string[]> {
    if (ids.length === 0) return [];
    const a = assignments(patch);
    const g = guarded(guard);
    const rows = await this.db.all(
      `UPDATE instances SET ${a.sql}, ${BUMP} WHERE id IN (${ids.map(() => "?").join(", ")})${g.sql} RETURNING id`,
      [...a.params, ...ids, ...g.params],
    );
    return rows.map((r) => String(r.id));
  }

  /**
   * A page of a project's instances, with the disks of each (not deleted; boot disk first, then by
   * drive), all through the caches (see {@link VersionedCache.records}).
   */
  async describe(f: DescribeFilter): Promise<DescribePage> {
    const where = ["project_id = ?", "in_recycle = 0"];
    const params: Param[] = [f.projectId];
    if (f.zone) {
      where.push("zone = ?");
      params.push(f.zone);
    }
    if (f.tag !== undefined) {
      where.push("tag = ?");
      params.push(f.tag);
    }
    if (f.withoutGpu !== undefined) {
      where.push("without_gpu = ?");
      params.push(f.withoutGpu ? 1 : 0);
    }
    // Stable order: newest first, id as the tie-breaker, so pages never overlap or skip.
    const order = "ORDER BY created_at DESC, id DESC";
    if (f.ids) {
      if (f.ids.length === 0) return { total: 0, rows: [], disks: new Map() };
      // A bounded id list (at most 100): read by primary key alone, then filtered, ordered and paged
      // here, so that no planner can prefer the project's index instead (PostgreSQL without
      // statistics, after a bulk load, walked all of a project's instances to find one id). The
      // disks' (id, version) come in the same statement: one statement less for a Describe by id.
      // The disks are looked up by the same id list (not only through the join), so no planner
      // can scan the disks table for them; only the project's instances' disks are read.
      const list = f.ids.map(() => "?").join(", ");
      const joined = await this.db.all(
        `SELECT i.id, i.version, d.id AS disk_id, d.version AS disk_version
         FROM instances i LEFT JOIN disks d ON d.instance_id = i.id AND i.project_id = ?
           AND d.instance_id IN (${list}) AND d.state <> 'Deleted'
         WHERE i.id IN (${list}) ORDER BY i.id, d.is_boot DESC, d.drive`,
        [f.projectId, ...f.ids, ...f.ids],
      );
      const keys: Row[] = [];
      const diskKeys: Row[] = [];
      for (const r of joined) {
        if (keys[keys.length - 1]?.id !== r.id) keys.push({ id: r.id, version: r.version });
        if (r.disk_id !== null) diskKeys.push({ id: r.disk_id, version: r.disk_version });
      }
      const disks = await this.disksOf(diskKeys);
      const all = (await this.records(keys))
        .filter(
          (r) =>
            r.projectId === f.projectId &&
            !r.inRecycle &&
            (!f.zone || r.zone === f.zone) &&
            (f.tag === undefined || r.tag === f.tag) &&
            (f.withoutGpu === undefined || r.withoutGpu === f.withoutGpu),
        )
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      return { total: all.length, rows: all.slice(f.offset, f.offset + f.limit), disks };
    }
    const counted = f.tag === undefined && f.withoutGpu === undefined;
    const scope = { projectId: f.projectId, inRecycle: false, zone: f.zone || undefined };
    const total = counted
      ? await this.counts.total(scope)
      : Number(
          (await this.db.all(`SELECT COUNT(*) AS n FROM instances WHERE ${where.join(" AND ")}`, params))[0]
            ?.n ?? 0,
        );
    if (f.offset >= total) return { total, rows: [], disks: new Map() };
    let offset = f.offset;
    if (counted && offset >= SEEK_FROM) {
      // A deep page starts from the bucket that holds its first row, not from the newest row.
      const at = await this.counts.seek(scope, offset);
      if (at) {
        where.push("created_at < ?");
        params.push(at.before);
        offset -= at.skipped;
      }
    }
    const keys = await this.db.all(
      `SELECT id, version FROM instances WHERE ${where.join(" AND ")} ${order} LIMIT ? OFFSET ?`,
      [...params, f.limit, offset],
    );
    const rows = await this.records(keys);
    const diskKeys =
      rows.length === 0
        ? []
        : await this.db.all(
            `SELECT id, version FROM disks WHERE instance_id IN (${rows.map(() => "?").join(", ")})
             AND state <> 'Deleted' ORDER BY is_boot DESC, drive`,
            rows.map((r) => r.id),
          );
    return { total, rows, disks: await this.disksOf(diskKeys) };
  }

  /** The disks of (id, version) rows through the cache, by instance, in the rows' order. */
  private async disksOf(keys: Row[]): Promise<Map<string, DiskRecord[]>> {
    const disks = new Map<string, DiskRecord[]>();
    for (const d of await this.diskCache.records(this.db, "disks", keys, diskFromRow)) {
      // Deleted or detached after its key was read: left out, as the statement would have.
      if (d.state === "Deleted" || d.instanceId === null) continue;
      const list = disks.get(d.instanceId);
      if (list) list.push(d);
      else disks.set(d.instanceId, [d]);
    }
    return disks;
  }

  /** The records of (id, version) rows, through the cache (see {@link VersionedCache.records}). */
  private records(keys: Row[]): Promise<InstanceRecord[]> {
    return this.cache.records(this.db, "instances", keys, instanceFromRow);
  }

  async recycled(
    projectId: string,
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: InstanceRecord[] }> {
    const total = await this.counts.total({ projectId, inRecycle: true });
    const rows = await this.db.all(
      "SELECT * FROM instances WHERE project_id = ? AND in_recycle = 1 ORDER BY recycled_at DESC, id DESC LIMIT ? OFFSET ?",
      [projectId, limit, offset],
    );
    return { total, rows: rows.map(instanceFromRow) };
  }

  /**
   * Instances an account holds outside the recycle bin (its quota counts these), from the counts.
   * `lock`: see {@link CountsRepo.activeOfAccount}.
   */
  countActive(accountId: string, opts: { lock?: boolean } = {}): Promise<number> {
    return this.counts.activeOfAccount(accountId, opts);
  }

  /** Locks the account for a quota check before the instance's own rows (see CountsRepo.lockAccount). */
  lockAccountForQuota(accountId: string): Promise<void> {
    return this.counts.lockAccount(accountId);
  }

  countInProject(projectId: string): Promise<number> {
    return this.counts.total({ projectId, inRecycle: false });
  }

  async remove(id: string): Promise<void> {
    await this.db.run("DELETE FROM instances WHERE id = ?", [id]);
  }

  /** Every id the store knows (not purged), for garbage collection of runtimes. */
  async allIds(): Promise<string[]> {
    return (await this.db.all("SELECT id FROM instances")).map((r) => String(r.id));
  }

  /** Running instances with no operation in flight (the reconciler's sweep). */
  async runningIdle(): Promise<string[]> {
    const rows = await this.db.all(
      "SELECT id FROM instances WHERE state = 'Running' AND in_recycle = 0 AND operation IS NULL",
    );
    return rows.map((r) => String(r.id));
  }

  /** Every Running instance, lock or not (what the monitoring collector samples). */
  async running(): Promise<InstanceRecord[]> {
    const rows = await this.db.all("SELECT * FROM instances WHERE state = 'Running' AND in_recycle = 0");
    return rows.map(instanceFromRow);
  }

  /** Id and state of every instance outside the recycle bin (rebuilding the simulator's world). */
  async liveStates(): Promise<Array<{ id: string; state: State }>> {
    const rows = await this.db.all("SELECT id, state FROM instances WHERE in_recycle = 0");
    return rows.map((r) => ({ id: String(r.id), state: String(r.state) as State }));
  }

  /** What each instance holding compute holds, for recomputing hosts' usage at start. */
  async holdingCompute(): Promise<
    Array<{
      hostId: string;
      gpuType: string;
      cpu: number;
      memory: number;
      withoutGpu: boolean;
      withoutGpuSpec: string | null;
    }>
  > {
    const rows = await this.db.all(
      "SELECT host_id, gpu_type, cpu, memory, without_gpu, without_gpu_spec FROM instances WHERE holds_compute = 1 AND host_id IS NOT NULL",
    );
    return rows.map((r) => ({
      hostId: String(r.host_id),
      gpuType: String(r.gpu_type),
      cpu: Number(r.cpu),
      memory: Number(r.memory),
      withoutGpu: Number(r.without_gpu) === 1,
      withoutGpuSpec: r.without_gpu_spec == null ? null : String(r.without_gpu_spec),
    }));
  }

  /** Instances holding a lock without a transition task (only a hand-edited store has them). */
  async operationsWithoutTask(): Promise<Array<{ id: string; operation: string }>> {
    const rows = await this.db.all(
      `SELECT id, operation FROM instances i WHERE operation IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.instance_id = i.id AND t.kind = 'transition')`,
    );
    return rows.map((r) => ({ id: String(r.id), operation: String(r.operation) }));
  }

  /** Instances flagged as making an image (start-up recovery checks each has its job). */
  async makingImage(): Promise<string[]> {
    return (await this.db.all("SELECT id FROM instances WHERE making_image = 1")).map((r) => String(r.id));
  }

  /** Emulator reset: every instance goes. */
  async removeAll(): Promise<void> {
    await this.db.run("DELETE FROM instances");
  }
}
