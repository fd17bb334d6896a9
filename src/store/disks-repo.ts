import type { DiskRecord } from "../domain/records.js";
import type { Db, Row } from "./db.js";

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

/** The disks table: the only place its SQL lives. */
export class DisksRepo {
  constructor(private readonly db: Db) {}

  async insert(d: DiskRecord): Promise<void> {
    await this.db.run(
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
  }

  /** Disks of these instances, boot disk first, then by drive. */
  async ofInstances(instanceIds: string[]): Promise<DiskRecord[]> {
    if (instanceIds.length === 0) return [];
    const rows = await this.db.all(
      `SELECT * FROM disks WHERE instance_id IN (${instanceIds.map(() => "?").join(", ")}) ORDER BY is_boot DESC, drive`,
      instanceIds,
    );
    return rows.map(diskFromRow);
  }

  async get(id: string): Promise<DiskRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM disks WHERE id = ?", [id]);
    return rows[0] ? diskFromRow(rows[0]) : undefined;
  }

  async resize(id: string, sizeGB: number): Promise<void> {
    await this.db.run("UPDATE disks SET size_gb = ? WHERE id = ?", [sizeGB, id]);
  }

  async deleteOf(instanceId: string, bootOnly: boolean): Promise<void> {
    await this.db.run(`DELETE FROM disks WHERE instance_id = ?${bootOnly ? " AND is_boot = 1" : ""}`, [
      instanceId,
    ]);
  }

  /** Data disks of an instance change state together (kept at terminate, reattached by recover). */
  async setDataState(instanceId: string, from: DiskRecord["state"], to: DiskRecord["state"]): Promise<void> {
    await this.db.run("UPDATE disks SET state = ? WHERE instance_id = ? AND is_boot = 0 AND state = ?", [
      to,
      instanceId,
      from,
    ]);
  }

  /** A purged instance's kept data disks stay as detached disks of nobody. */
  async orphanKeptData(instanceId: string): Promise<void> {
    await this.db.run(
      "UPDATE disks SET instance_id = NULL WHERE instance_id = ? AND is_boot = 0 AND state = 'Available'",
      [instanceId],
    );
  }

  async allIds(): Promise<string[]> {
    return (await this.db.all("SELECT id FROM disks")).map((r) => String(r.id));
  }

  async removeAll(): Promise<void> {
    await this.db.run("DELETE FROM disks");
  }
}
