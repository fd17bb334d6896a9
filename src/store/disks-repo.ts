import type { DiskRecord, DiskState } from "../domain/records.js";
import type { Db, Param, Row } from "./db.js";
import { BUMP, versionMigration } from "./versioned-cache.js";

/** Disk records carry their row version (see {@link VersionedCache}). */
export const DISK_VERSION_MIGRATION = versionMigration(50, "disks");

export const diskFromRow = (r: Row): DiskRecord => ({
  id: String(r.id),
  accountId: String(r.account_id),
  projectId: r.project_id == null ? null : String(r.project_id),
  instanceId: r.instance_id == null ? null : String(r.instance_id),
  zone: String(r.zone),
  isBoot: Number(r.is_boot) === 1,
  diskType: String(r.disk_type),
  sizeGB: Number(r.size_gb),
  drive: String(r.drive),
  state: String(r.state) as DiskState,
  name: String(r.name ?? ""),
  chargeType: String(r.charge_type ?? "Postpay"),
  keptFor: r.kept_for == null ? null : String(r.kept_for),
  createdAt: Number(r.created_at),
});

/** The fields a guarded disk update may set, with their columns. */
const SETTABLE: Array<[keyof DiskRecord, string]> = [
  ["instanceId", "instance_id"],
  ["state", "state"],
  ["drive", "drive"],
  ["sizeGB", "size_gb"],
  ["keptFor", "kept_for"],
];

/** What a guarded update requires of the row; every given condition must hold. */
export interface DiskGuard {
  id?: string;
  instanceId?: string;
  keptFor?: string;
  states?: readonly DiskState[];
  /** Only data disks (never the system disk). */
  dataOnly?: boolean;
  /** The size must be below this (a grow). */
  smallerThan?: number;
}

/** Filters of the disk list (DescribeCompshareDisk). */
export interface DiskListFilter {
  projectId: string;
  /** Only disks attached to this instance. */
  instanceId?: string;
  /** Only disks in these zones (a region's). */
  zones?: string[];
}

/** Ids per `IN (…)` list. */
const IN_CHUNK = 500;

/** The disks table: its SQL, but for the keys Describe reads with its instances (InstancesRepo.describe). */
export class DisksRepo {
  constructor(private readonly db: Db) {}

  async insert(d: DiskRecord): Promise<void> {
    await this.db.run(
      "INSERT INTO disks (id, account_id, project_id, instance_id, zone, is_boot, disk_type, size_gb, drive, state, name, charge_type, kept_for, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [
        d.id,
        d.accountId,
        d.projectId,
        d.instanceId,
        d.zone,
        d.isBoot ? 1 : 0,
        d.diskType,
        d.sizeGB,
        d.drive,
        d.state,
        d.name,
        d.chargeType,
        d.keptFor,
        d.createdAt,
      ],
    );
  }

  /**
   * Disks attached to these instances (whatever their state), boot disk first, then by drive, read
   * whole (Describe reads its disks through the records cache: InstancesRepo.describe).
   */
  async ofInstances(instanceIds: string[]): Promise<DiskRecord[]> {
    const out: DiskRecord[] = [];
    // In chunks: the monitoring collector asks for every running instance, far past the number
    // of bound values either dialect takes in one statement.
    for (let i = 0; i < instanceIds.length; i += IN_CHUNK) {
      const ids = instanceIds.slice(i, i + IN_CHUNK);
      for (const r of await this.db.all(
        `SELECT * FROM disks WHERE instance_id IN (${ids.map(() => "?").join(", ")}) ORDER BY is_boot DESC, drive`,
        ids,
      ))
        out.push(diskFromRow(r));
    }
    return out;
  }

  async get(id: string): Promise<DiskRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM disks WHERE id = ?", [id]);
    return rows[0] ? diskFromRow(rows[0]) : undefined;
  }

  /** A project's data disks, attached and detached (not deleted), oldest first. */
  async list(f: DiskListFilter): Promise<DiskRecord[]> {
    const where = ["project_id = ?", "is_boot = 0", "state <> 'Deleted'"];
    const params: Param[] = [f.projectId];
    if (f.instanceId !== undefined) {
      where.push("instance_id = ?");
      params.push(f.instanceId);
    }
    if (f.zones !== undefined) {
      if (f.zones.length === 0) return [];
      where.push(`zone IN (${f.zones.map(() => "?").join(", ")})`);
      params.push(...f.zones);
    }
    const rows = await this.db.all(
      `SELECT * FROM disks WHERE ${where.join(" AND ")} ORDER BY created_at, id`,
      params,
    );
    return rows.map(diskFromRow);
  }

  /**
   * The guarded update every disk change goes through: `set` applies only to rows that meet every
   * condition of `guard`. Returns how many rows changed (0: the disk moved on meanwhile).
   */
  async update(guard: DiskGuard, set: Partial<DiskRecord>): Promise<number> {
    const parts: string[] = [];
    const params: Param[] = [];
    for (const [field, col] of SETTABLE) {
      if (!(field in set)) continue;
      parts.push(`${col} = ?`);
      const v = set[field];
      params.push(v === undefined || v === null ? null : typeof v === "number" ? v : String(v));
    }
    const where: string[] = [];
    if (guard.id !== undefined) {
      where.push("id = ?");
      params.push(guard.id);
    }
    if (guard.instanceId !== undefined) {
      where.push("instance_id = ?");
      params.push(guard.instanceId);
    }
    if (guard.keptFor !== undefined) {
      where.push("kept_for = ?");
      params.push(guard.keptFor);
    }
    if (guard.states) {
      where.push(`state IN (${guard.states.map(() => "?").join(", ")})`);
      params.push(...guard.states);
    }
    if (guard.dataOnly) where.push("is_boot = 0");
    if (guard.smallerThan !== undefined) {
      where.push("size_gb < ?");
      params.push(guard.smallerThan);
    }
    if (parts.length === 0 || where.length === 0) throw new Error("disk update needs a change and a guard");
    return this.db.run(`UPDATE disks SET ${parts.join(", ")}, ${BUMP} WHERE ${where.join(" AND ")}`, params);
  }

  async resize(id: string, sizeGB: number): Promise<void> {
    await this.db.run(`UPDATE disks SET size_gb = ?, ${BUMP} WHERE id = ?`, [sizeGB, id]);
  }

  async deleteOf(instanceId: string, bootOnly: boolean): Promise<void> {
    await this.db.run(`DELETE FROM disks WHERE instance_id = ?${bootOnly ? " AND is_boot = 1" : ""}`, [
      instanceId,
    ]);
  }

  /** Disks a recycled instance kept, which Recover gives back to it (still detached, not deleted). */
  async keptFor(instanceId: string): Promise<DiskRecord[]> {
    const rows = await this.db.all(
      "SELECT * FROM disks WHERE kept_for = ? AND instance_id IS NULL AND state = 'Available' ORDER BY created_at, id",
      [instanceId],
    );
    return rows.map(diskFromRow);
  }

  /** A purged instance's kept data disks stay as detached disks of nobody. */
  async orphanKeptData(instanceId: string): Promise<void> {
    await this.db.run(`UPDATE disks SET kept_for = NULL, ${BUMP} WHERE kept_for = ?`, [instanceId]);
  }

  /** Ids of disks that have storage in a runtime (deleted ones have none left, or are on the way). */
  async allIds(): Promise<string[]> {
    return (await this.db.all("SELECT id FROM disks WHERE state <> 'Deleted'")).map((r) => String(r.id));
  }

  async removeAll(): Promise<void> {
    await this.db.run("DELETE FROM disks");
  }
}
