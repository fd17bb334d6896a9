import type { ChargeType } from "../core/catalog.js";
import type { Operation, State } from "../core/states.js";
import type { Db, Param, Row } from "./db.js";

export interface InstanceRecord {
  id: string;
  accountId: string;
  projectId: string;
  region: string;
  zone: string;
  name: string;
  tag: string;
  remark: string;
  state: State;
  operation: Operation | null;
  operationExpiresAt: number | null;
  instanceType: "UHost" | "Container";
  machineType: string;
  gpuType: string;
  gpu: number;
  cpu: number;
  memory: number;
  cpuPlatform: string;
  withoutGpu: boolean;
  hostId: string | null;
  holdsCompute: boolean;
  chargeType: ChargeType;
  imageId: string;
  passwordSealed: string;
  makingImage: boolean;
  inRecycle: boolean;
  recycledAt: number | null;
  releaseUdisk: boolean;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  stoppedAt: number | null;
  expireAt: number | null;
  schedulerStopAt: number | null;
  releaseAt: number | null;
  lastError: string | null;
  /** Where the driver says the instance is reached over SSH (null until its first start). */
  accessHost: string | null;
  accessPort: number | null;
}

export interface DiskRecord {
  id: string;
  accountId: string;
  instanceId: string | null;
  zone: string;
  isBoot: boolean;
  diskType: string;
  sizeGB: number;
  drive: string;
  state: "InUse" | "Available";
  createdAt: number;
}

export type TaskKind = "transition" | "scheduled-stop" | "release" | "purge";

export interface TaskRecord {
  id: string;
  kind: TaskKind;
  instanceId: string;
  dueAt: number;
  claimedBy: string | null;
  claimExpiresAt: number | null;
  attempts: number;
  payload: Record<string, unknown>;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Column ↔ field map, kept once so inserts and reads cannot drift apart. */
const COLUMNS: Array<[keyof InstanceRecord, string, "s" | "n" | "b" | "ns" | "nn"]> = [
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
];

export function instanceFromRow(r: Row): InstanceRecord {
  const out: Record<string, unknown> = {};
  for (const [field, col, t] of COLUMNS) {
    const v = r[col];
    out[field] =
      t === "s"
        ? String(v)
        : t === "n"
          ? Number(v)
          : t === "b"
            ? Number(v) === 1
            : t === "nn"
              ? num(v)
              : v == null
                ? null
                : String(v);
  }
  return out as unknown as InstanceRecord;
}

function toParam(v: unknown, t: string): Param {
  if (t === "b") return v ? 1 : 0;
  if (v === null || v === undefined) return null;
  return t === "n" || t === "nn" ? Number(v) : String(v);
}

/** Turns a partial record into `col = ?` assignments. */
export function assignments(patch: Partial<InstanceRecord>): { sql: string; params: Param[] } {
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

const diskFromRow = (r: Row): DiskRecord => ({
  id: String(r.id),
  accountId: String(r.account_id),
  instanceId: r.instance_id == null ? null : String(r.instance_id),
  zone: String(r.zone),
  isBoot: Number(r.is_boot) === 1,
  diskType: String(r.disk_type),
  sizeGB: Number(r.size_gb),
  drive: String(r.drive),
  state: String(r.state) as DiskRecord["state"],
  createdAt: Number(r.created_at),
});

const taskFromRow = (r: Row): TaskRecord => ({
  id: String(r.id),
  kind: String(r.kind) as TaskKind,
  instanceId: String(r.instance_id),
  dueAt: Number(r.due_at),
  claimedBy: r.claimed_by == null ? null : String(r.claimed_by),
  claimExpiresAt: num(r.claim_expires_at),
  attempts: Number(r.attempts),
  payload: JSON.parse(String(r.payload ?? "{}")) as Record<string, unknown>,
});

/** Hosts with their free GPUs (GPUs beyond a shrunk gpu_count are not free). */
const HOST_SELECT =
  "SELECT h.*, (SELECT COUNT(*) FROM host_gpus g WHERE g.host_id = h.id AND g.instance_id IS NULL AND g.gpu_index < h.gpu_count) AS gpus_free FROM hosts h";

const hostFromRow = (r: Row) => ({
  id: String(r.id),
  zone: String(r.zone),
  gpuType: String(r.gpu_type),
  gpuCount: Number(r.gpu_count),
  gpusFree: Number(r.gpus_free),
  cpuTotal: Number(r.cpu_total),
  cpuUsed: Number(r.cpu_used),
  memoryTotal: Number(r.memory_total),
  memoryUsed: Number(r.memory_used),
  retired: Number(r.retired) === 1,
});

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

/** Instances, disks, GPUs, hosts and tasks: the only place their SQL lives. */
export const instancesRepo = {
  async insert(db: Db, rec: InstanceRecord): Promise<void> {
    const cols = COLUMNS.map(([, c]) => c);
    await db.run(
      `INSERT INTO instances (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
      COLUMNS.map(([f, , t]) => toParam(rec[f], t)),
    );
  },

  async get(db: Db, id: string): Promise<InstanceRecord | undefined> {
    const rows = await db.all("SELECT * FROM instances WHERE id = ?", [id]);
    return rows[0] ? instanceFromRow(rows[0]) : undefined;
  },

  /**
   * The compare-and-swap every mutation goes through: the patch applies only if the instance is in
   * one of `states` (when given), is (or is not) in the recycle bin, and holds no live lock (unless
   * `lockedBy` names the operation that holds it). Returns whether the row changed.
   */
  async cas(
    db: Db,
    id: string,
    guard: { states?: readonly State[]; inRecycle?: boolean; now: number; lockedBy?: Operation | "any" },
    patch: Partial<InstanceRecord>,
  ): Promise<boolean> {
    const a = assignments(patch);
    const where: string[] = ["id = ?"];
    const params: Param[] = [...a.params, id];
    if (guard.states) {
      where.push(`state IN (${guard.states.map(() => "?").join(", ")})`);
      params.push(...guard.states);
    }
    if (guard.inRecycle !== undefined) {
      where.push("in_recycle = ?");
      params.push(guard.inRecycle ? 1 : 0);
    }
    if (guard.lockedBy === undefined) {
      where.push("(operation IS NULL OR operation_expires_at < ?)");
      params.push(guard.now);
    } else if (guard.lockedBy !== "any") {
      where.push("operation = ?");
      params.push(guard.lockedBy);
    }
    return (await db.run(`UPDATE instances SET ${a.sql} WHERE ${where.join(" AND ")}`, params)) === 1;
  },

  async describe(db: Db, f: DescribeFilter): Promise<{ total: number; rows: InstanceRecord[] }> {
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
    if (f.ids) {
      if (f.ids.length === 0) return { total: 0, rows: [] };
      where.push(`id IN (${f.ids.map(() => "?").join(", ")})`);
      params.push(...f.ids);
    }
    const w = where.join(" AND ");
    const total = Number((await db.all(`SELECT COUNT(*) AS n FROM instances WHERE ${w}`, params))[0]?.n ?? 0);
    // Stable order: newest first, id as the tie-breaker, so pages never overlap or skip.
    const rows = await db.all(
      `SELECT * FROM instances WHERE ${w} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
      [...params, f.limit, f.offset],
    );
    return { total, rows: rows.map(instanceFromRow) };
  },

  async recycled(db: Db, projectId: string, offset: number, limit: number) {
    const total = Number(
      (
        await db.all("SELECT COUNT(*) AS n FROM instances WHERE project_id = ? AND in_recycle = 1", [
          projectId,
        ])
      )[0]?.n ?? 0,
    );
    const rows = await db.all(
      "SELECT * FROM instances WHERE project_id = ? AND in_recycle = 1 ORDER BY recycled_at DESC, id DESC LIMIT ? OFFSET ?",
      [projectId, limit, offset],
    );
    return { total, rows: rows.map(instanceFromRow) };
  },

  async countActive(db: Db, accountId: string): Promise<number> {
    const rows = await db.all("SELECT COUNT(*) AS n FROM instances WHERE account_id = ? AND in_recycle = 0", [
      accountId,
    ]);
    return Number(rows[0]?.n ?? 0);
  },

  async remove(db: Db, id: string): Promise<void> {
    await db.run("DELETE FROM instances WHERE id = ?", [id]);
  },

  // ---- disks
  async insertDisk(db: Db, d: DiskRecord): Promise<void> {
    await db.run(
      "INSERT INTO disks (id, account_id, instance_id, zone, is_boot, disk_type, size_gb, drive, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [
        d.id,
        d.accountId,
        d.instanceId,
        d.zone,
        d.isBoot ? 1 : 0,
        d.diskType,
        d.sizeGB,
        d.drive,
        d.state,
        d.createdAt,
      ],
    );
  },
  async disksOf(db: Db, instanceIds: string[]): Promise<DiskRecord[]> {
    if (instanceIds.length === 0) return [];
    const rows = await db.all(
      `SELECT * FROM disks WHERE instance_id IN (${instanceIds.map(() => "?").join(", ")}) ORDER BY is_boot DESC, drive`,
      instanceIds,
    );
    return rows.map(diskFromRow);
  },
  async disk(db: Db, id: string): Promise<DiskRecord | undefined> {
    const rows = await db.all("SELECT * FROM disks WHERE id = ?", [id]);
    return rows[0] ? diskFromRow(rows[0]) : undefined;
  },
  async resizeDisk(db: Db, id: string, sizeGB: number): Promise<void> {
    await db.run("UPDATE disks SET size_gb = ? WHERE id = ?", [sizeGB, id]);
  },
  async detachDataDisks(db: Db, instanceId: string): Promise<void> {
    await db.run(
      "UPDATE disks SET instance_id = NULL, state = 'Available' WHERE instance_id = ? AND is_boot = 0",
      [instanceId],
    );
  },
  async deleteDisks(db: Db, instanceId: string, bootOnly: boolean): Promise<void> {
    await db.run(`DELETE FROM disks WHERE instance_id = ?${bootOnly ? " AND is_boot = 1" : ""}`, [
      instanceId,
    ]);
  },

  // ---- hosts and GPUs
  async upsertHost(
    db: Db,
    h: { id: string; zone: string; gpuType: string; gpus: number; cpu: number; memoryMB: number },
  ): Promise<void> {
    const existing = await db.all("SELECT id FROM hosts WHERE id = ?", [h.id]);
    if (existing.length === 0) {
      await db.run(
        "INSERT INTO hosts (id, zone, gpu_type, gpu_count, cpu_total, memory_total, cpu_used, memory_used, retired) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0)",
        [h.id, h.zone, h.gpuType, h.gpus, h.cpu, h.memoryMB],
      );
    } else {
      await db.run(
        "UPDATE hosts SET zone = ?, gpu_type = ?, gpu_count = ?, cpu_total = ?, memory_total = ?, retired = 0 WHERE id = ?",
        [h.zone, h.gpuType, h.gpus, h.cpu, h.memoryMB, h.id],
      );
    }
    for (let i = 0; i < h.gpus; i++) {
      const row = await db.all("SELECT gpu_index FROM host_gpus WHERE host_id = ? AND gpu_index = ?", [
        h.id,
        i,
      ]);
      if (row.length === 0)
        await db.run("INSERT INTO host_gpus (host_id, gpu_index, instance_id) VALUES (?, ?, NULL)", [
          h.id,
          i,
        ]);
    }
    // GPUs beyond the new count go only if free; held ones stay until their instance lets go.
    await db.run("DELETE FROM host_gpus WHERE host_id = ? AND gpu_index >= ? AND instance_id IS NULL", [
      h.id,
      h.gpus,
    ]);
  },
  async retireHostsNotIn(db: Db, ids: string[]): Promise<void> {
    if (ids.length === 0) {
      await db.run("UPDATE hosts SET retired = 1");
      return;
    }
    await db.run(`UPDATE hosts SET retired = 1 WHERE id NOT IN (${ids.map(() => "?").join(", ")})`, ids);
  },
  /**
   * Locks the rows of every host of a zone and GPU type, in id order (so two lockers cannot
   * deadlock), for the rest of the transaction. Placement reads free capacity only after this, so
   * concurrent creates on PostgreSQL queue up instead of racing for the same best-fit host.
   * SQLite transactions are already exclusive.
   */
  async lockHosts(db: Db, zone: string, gpuType: string): Promise<void> {
    if (db.dialect === "postgres") {
      await db.all("SELECT id FROM hosts WHERE zone = ? AND gpu_type = ? ORDER BY id FOR UPDATE", [
        zone,
        gpuType,
      ]);
    }
  },
  async hostsFor(db: Db, zone: string, gpuType: string) {
    const rows = await db.all(
      `${HOST_SELECT} WHERE h.zone = ? AND h.gpu_type = ? AND h.retired = 0 ORDER BY h.id`,
      [zone, gpuType],
    );
    return rows.map(hostFromRow).map((h) => ({
      id: h.id,
      gpusFree: h.gpusFree,
      gpuCount: h.gpuCount,
      cpuFree: h.cpuTotal - h.cpuUsed,
      memoryFree: h.memoryTotal - h.memoryUsed,
    }));
  },
  async allHosts(db: Db) {
    return (await db.all(`${HOST_SELECT} ORDER BY h.id`)).map(hostFromRow);
  },
  async host(db: Db, id: string) {
    const rows = await db.all(`${HOST_SELECT} WHERE h.id = ?`, [id]);
    return rows[0] ? hostFromRow(rows[0]) : undefined;
  },
  /** Reserves CPU/memory on a host with a guarded update; false when it does not fit. */
  async reserveCompute(db: Db, hostId: string, cpu: number, memory: number): Promise<boolean> {
    const n = await db.run(
      "UPDATE hosts SET cpu_used = cpu_used + ?, memory_used = memory_used + ? WHERE id = ? AND retired = 0 AND cpu_used + ? <= cpu_total AND memory_used + ? <= memory_total",
      [cpu, memory, hostId, cpu, memory],
    );
    return n === 1;
  },
  async releaseCompute(db: Db, hostId: string, cpu: number, memory: number): Promise<void> {
    await db.run("UPDATE hosts SET cpu_used = cpu_used - ?, memory_used = memory_used - ? WHERE id = ?", [
      cpu,
      memory,
      hostId,
    ]);
  },
  async freeGpuIndexes(db: Db, hostId: string, limit: number): Promise<number[]> {
    const rows = await db.all(
      `SELECT g.gpu_index FROM host_gpus g JOIN hosts h ON h.id = g.host_id
       WHERE g.host_id = ? AND g.instance_id IS NULL AND g.gpu_index < h.gpu_count ORDER BY g.gpu_index LIMIT ?`,
      [hostId, limit],
    );
    return rows.map((r) => Number(r.gpu_index));
  },
  /** Takes one GPU with a guarded update; false when another instance got it first. */
  async takeGpu(db: Db, hostId: string, index: number, instanceId: string): Promise<boolean> {
    return (
      (await db.run(
        "UPDATE host_gpus SET instance_id = ? WHERE host_id = ? AND gpu_index = ? AND instance_id IS NULL",
        [instanceId, hostId, index],
      )) === 1
    );
  },
  /** GPU indexes held by each of `instanceIds`, in one query. */
  async gpusOfMany(db: Db, instanceIds: string[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>(instanceIds.map((id) => [id, []]));
    if (instanceIds.length === 0) return out;
    const rows = await db.all(
      `SELECT instance_id, gpu_index FROM host_gpus WHERE instance_id IN (${instanceIds.map(() => "?").join(", ")}) ORDER BY gpu_index`,
      instanceIds,
    );
    for (const r of rows) out.get(String(r.instance_id))?.push(Number(r.gpu_index));
    return out;
  },
  async gpusOf(db: Db, instanceId: string): Promise<number[]> {
    const rows = await db.all("SELECT gpu_index FROM host_gpus WHERE instance_id = ? ORDER BY gpu_index", [
      instanceId,
    ]);
    return rows.map((r) => Number(r.gpu_index));
  },
  async releaseGpus(db: Db, instanceId: string): Promise<void> {
    await db.run("UPDATE host_gpus SET instance_id = NULL WHERE instance_id = ?", [instanceId]);
  },

  // ---- tasks
  async insertTask(
    db: Db,
    t: Omit<TaskRecord, "claimedBy" | "claimExpiresAt" | "attempts">,
    now: number,
  ): Promise<void> {
    await db.run(
      "INSERT INTO tasks (id, kind, instance_id, due_at, claimed_by, claim_expires_at, attempts, payload, created_at) VALUES (?, ?, ?, ?, NULL, NULL, 0, ?, ?)",
      [t.id, t.kind, t.instanceId, t.dueAt, JSON.stringify(t.payload), now],
    );
  },
  async deleteTasks(db: Db, instanceId: string, kind: TaskKind): Promise<void> {
    await db.run("DELETE FROM tasks WHERE instance_id = ? AND kind = ?", [instanceId, kind]);
  },
  async deleteTask(db: Db, id: string): Promise<void> {
    await db.run("DELETE FROM tasks WHERE id = ?", [id]);
  },
  async tasksOf(db: Db, instanceId: string): Promise<TaskRecord[]> {
    return (await db.all("SELECT * FROM tasks WHERE instance_id = ? ORDER BY due_at", [instanceId])).map(
      taskFromRow,
    );
  },
  /**
   * Claims due tasks with one guarded update. The claim condition is repeated in the outer WHERE so
   * that on PostgreSQL a row another replica claimed meanwhile is re-checked and skipped.
   */
  async claimDue(db: Db, worker: string, now: number, claimMs: number, limit: number): Promise<TaskRecord[]> {
    const rows = await db.all(
      `UPDATE tasks SET claimed_by = ?, claim_expires_at = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM tasks WHERE due_at <= ? AND (claimed_by IS NULL OR claim_expires_at < ?) ORDER BY due_at, id LIMIT ?)
         AND due_at <= ? AND (claimed_by IS NULL OR claim_expires_at < ?)
       RETURNING *`,
      [worker, now + claimMs, now, now, limit, now, now],
    );
    return rows.map(taskFromRow);
  },
  /** Gives a task back with a new due time (a lock it must wait out, a transient failure). */
  async postpone(db: Db, id: string, worker: string, dueAt: number): Promise<void> {
    await db.run(
      "UPDATE tasks SET claimed_by = NULL, claim_expires_at = NULL, due_at = ? WHERE id = ? AND claimed_by = ?",
      [dueAt, id, worker],
    );
  },
  async completeTask(db: Db, id: string, worker: string): Promise<void> {
    await db.run("DELETE FROM tasks WHERE id = ? AND claimed_by = ?", [id, worker]);
  },
  async nextDue(db: Db): Promise<number | null> {
    const rows = await db.all("SELECT MIN(due_at) AS d FROM tasks WHERE claimed_by IS NULL");
    return num(rows[0]?.d);
  },
};
