import type { HostSpec } from "../domain/catalog.js";
import type { HostRecord, HostRoom } from "../domain/records.js";
import type { Db, Row } from "./db.js";

/**
 * Hosts with their free GPUs: the count less every GPU held, wherever its slot is. A host whose
 * count shrank below what its instances hold (a catalog edit; a node whose other workloads grew)
 * keeps those slots held until they are let go, and they still count against it.
 */
const HOST_SELECT =
  "SELECT h.*, (SELECT COUNT(*) FROM host_gpus g WHERE g.host_id = h.id AND g.instance_id IS NOT NULL) AS gpus_held FROM hosts h";

const hostFromRow = (r: Row): HostRecord => ({
  id: String(r.id),
  zone: String(r.zone),
  gpuType: String(r.gpu_type),
  gpuCount: Number(r.gpu_count),
  gpusFree: Math.max(0, Number(r.gpu_count) - Number(r.gpus_held)),
  cpuTotal: Number(r.cpu_total),
  cpuUsed: Number(r.cpu_used),
  memoryTotal: Number(r.memory_total),
  memoryUsed: Number(r.memory_used),
  retired: Number(r.retired) === 1,
});

/** Hosts and their GPUs: the only place their SQL lives. */
export class HostsRepo {
  constructor(private readonly db: Db) {}

  /** A catalog host: added, or its capacity brought up to date. */
  async upsert(h: HostSpec): Promise<void> {
    const existing = await this.db.all("SELECT id FROM hosts WHERE id = ?", [h.id]);
    if (existing.length === 0) {
      await this.db.run(
        "INSERT INTO hosts (id, zone, gpu_type, gpu_count, cpu_total, memory_total, cpu_used, memory_used, retired) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0)",
        [h.id, h.zone, h.gpuType, h.gpus, h.cpu, h.memoryMB],
      );
    } else {
      await this.db.run(
        "UPDATE hosts SET zone = ?, gpu_type = ?, gpu_count = ?, cpu_total = ?, memory_total = ?, retired = 0 WHERE id = ?",
        [h.zone, h.gpuType, h.gpus, h.cpu, h.memoryMB, h.id],
      );
    }
    for (let i = 0; i < h.gpus; i++) {
      const row = await this.db.all("SELECT gpu_index FROM host_gpus WHERE host_id = ? AND gpu_index = ?", [
        h.id,
        i,
      ]);
      if (row.length === 0)
        await this.db.run("INSERT INTO host_gpus (host_id, gpu_index, instance_id) VALUES (?, ?, NULL)", [
          h.id,
          i,
        ]);
    }
    // GPUs beyond the new count go only if free; held ones stay until their instance lets go.
    await this.db.run("DELETE FROM host_gpus WHERE host_id = ? AND gpu_index >= ? AND instance_id IS NULL", [
      h.id,
      h.gpus,
    ]);
  }

  async retireAllBut(ids: string[]): Promise<void> {
    if (ids.length === 0) {
      await this.db.run("UPDATE hosts SET retired = 1");
      return;
    }
    await this.db.run(`UPDATE hosts SET retired = 1 WHERE id NOT IN (${ids.map(() => "?").join(", ")})`, ids);
  }

  /**
   * Locks the rows of every host of a zone and GPU type, in id order (so two lockers cannot
   * deadlock), for the rest of the transaction. Placement reads free capacity only after this, so
   * concurrent creates on PostgreSQL queue up instead of racing for the same best-fit host.
   * SQLite transactions are already exclusive.
   */
  async lockFor(zone: string, gpuType: string): Promise<void> {
    if (this.db.dialect === "postgres") {
      await this.db.all("SELECT id FROM hosts WHERE zone = ? AND gpu_type = ? ORDER BY id FOR UPDATE", [
        zone,
        gpuType,
      ]);
    }
  }

  /** Locks every host row (start-up recovery recomputes usage with no allocation interleaving). */
  async lockAll(): Promise<void> {
    if (this.db.dialect === "postgres") await this.db.all("SELECT id FROM hosts ORDER BY id FOR UPDATE");
  }

  /** Live hosts of a zone and GPU type with their free room. */
  async roomFor(zone: string, gpuType: string): Promise<HostRoom[]> {
    const rows = await this.db.all(
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
  }

  async all(): Promise<HostRecord[]> {
    return (await this.db.all(`${HOST_SELECT} ORDER BY h.id`)).map(hostFromRow);
  }

  async get(id: string): Promise<HostRecord | undefined> {
    const rows = await this.db.all(`${HOST_SELECT} WHERE h.id = ?`, [id]);
    return rows[0] ? hostFromRow(rows[0]) : undefined;
  }

  /** Reserves CPU/memory on a host with a guarded update; false when it does not fit. */
  async reserveCompute(hostId: string, cpu: number, memory: number): Promise<boolean> {
    const n = await this.db.run(
      "UPDATE hosts SET cpu_used = cpu_used + ?, memory_used = memory_used + ? WHERE id = ? AND retired = 0 AND cpu_used + ? <= cpu_total AND memory_used + ? <= memory_total",
      [cpu, memory, hostId, cpu, memory],
    );
    return n === 1;
  }

  async releaseCompute(hostId: string, cpu: number, memory: number): Promise<void> {
    await this.db.run(
      "UPDATE hosts SET cpu_used = cpu_used - ?, memory_used = memory_used - ? WHERE id = ?",
      [cpu, memory, hostId],
    );
  }

  async setUsage(hostId: string, cpu: number, memory: number): Promise<void> {
    await this.db.run("UPDATE hosts SET cpu_used = ?, memory_used = ? WHERE id = ?", [cpu, memory, hostId]);
  }

  /** Up to `limit` free GPU slots of a host, never more than it has free (see HOST_SELECT). */
  async freeGpuIndexes(hostId: string, limit: number): Promise<number[]> {
    const free = (await this.get(hostId))?.gpusFree ?? 0;
    const rows = await this.db.all(
      `SELECT g.gpu_index FROM host_gpus g JOIN hosts h ON h.id = g.host_id
       WHERE g.host_id = ? AND g.instance_id IS NULL AND g.gpu_index < h.gpu_count ORDER BY g.gpu_index LIMIT ?`,
      [hostId, Math.min(limit, free)],
    );
    return rows.map((r) => Number(r.gpu_index));
  }

  /** Takes one GPU with a guarded update; false when another instance got it first. */
  async takeGpu(hostId: string, index: number, instanceId: string): Promise<boolean> {
    return (
      (await this.db.run(
        "UPDATE host_gpus SET instance_id = ? WHERE host_id = ? AND gpu_index = ? AND instance_id IS NULL",
        [instanceId, hostId, index],
      )) === 1
    );
  }

  /**
   * GPUs the instances of one account hold now (its GPU quota counts these). Walked from the held
   * GPUs (as many as the fleet has at most) to their instances, never from the account's instances
   * (a million of them, most stopped and holding none: a second per Create); SQLite's CROSS JOIN
   * fixes that order, PostgreSQL's planner finds it from the tables' sizes.
   */
  async gpusHeldBy(accountId: string): Promise<number> {
    const join = this.db.dialect === "sqlite" ? "CROSS JOIN" : "JOIN";
    const rows = await this.db.all(
      `SELECT COUNT(*) AS n FROM host_gpus g ${join} instances i ON i.id = g.instance_id
       WHERE g.instance_id IS NOT NULL AND i.account_id = ?`,
      [accountId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** GPU indexes held by each of `instanceIds`, in one query. */
  async gpusOfMany(instanceIds: string[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>(instanceIds.map((id) => [id, []]));
    // In chunks of 500: the monitoring collector asks for every running instance at once.
    for (let i = 0; i < instanceIds.length; i += 500) {
      const ids = instanceIds.slice(i, i + 500);
      const rows = await this.db.all(
        `SELECT instance_id, gpu_index FROM host_gpus WHERE instance_id IN (${ids.map(() => "?").join(", ")}) ORDER BY gpu_index`,
        ids,
      );
      for (const r of rows) out.get(String(r.instance_id))?.push(Number(r.gpu_index));
    }
    return out;
  }

  async gpusOf(instanceId: string): Promise<number[]> {
    const rows = await this.db.all(
      "SELECT gpu_index FROM host_gpus WHERE instance_id = ? ORDER BY gpu_index",
      [instanceId],
    );
    return rows.map((r) => Number(r.gpu_index));
  }

  /** Frees an instance's GPUs; returns the indexes it held. */
  async releaseGpus(instanceId: string): Promise<number[]> {
    const rows = await this.db.all(
      "UPDATE host_gpus SET instance_id = NULL WHERE instance_id = ? RETURNING gpu_index",
      [instanceId],
    );
    return rows.map((r) => Number(r.gpu_index)).sort((a, b) => a - b);
  }

  /** GPUs held by instances that no longer hold compute with GPUs (start-up repair); returns how many. */
  async releaseGpusNotHeld(): Promise<number> {
    return this.db.run(
      `UPDATE host_gpus SET instance_id = NULL WHERE instance_id IS NOT NULL AND instance_id NOT IN
         (SELECT id FROM instances WHERE holds_compute = 1 AND without_gpu = 0)`,
    );
  }

  /** Emulator reset: every GPU free, no CPU or memory used. */
  async releaseAll(): Promise<void> {
    await this.db.run("UPDATE host_gpus SET instance_id = NULL");
    await this.db.run("UPDATE hosts SET cpu_used = 0, memory_used = 0");
  }

  /**
   * Who holds what on every host, for the operator's GPU map: each GPU with the instance holding it,
   * and the instances placed on a host that hold no GPU of it (run without GPU, or stopped there).
   */
  async occupancy(): Promise<{ gpus: GpuSeat[]; residents: HostResident[] }> {
    const gpus = await this.db.all(
      `SELECT g.host_id, g.gpu_index, g.instance_id, i.name, i.account_id, i.project_id, i.state, a.name AS account_name
       FROM host_gpus g JOIN hosts h ON h.id = g.host_id
       LEFT JOIN instances i ON i.id = g.instance_id LEFT JOIN accounts a ON a.id = i.account_id
       WHERE g.gpu_index < h.gpu_count ORDER BY g.host_id, g.gpu_index`,
    );
    const residents = await this.db.all(
      `SELECT i.id, i.host_id, i.name, i.account_id, i.project_id, i.state, i.without_gpu, i.holds_compute,
              i.cpu, i.memory, i.gpu, a.name AS account_name
       FROM instances i LEFT JOIN accounts a ON a.id = i.account_id
       WHERE i.host_id IS NOT NULL AND i.in_recycle = 0
         AND NOT EXISTS (SELECT 1 FROM host_gpus g WHERE g.instance_id = i.id)
       ORDER BY i.host_id, i.id`,
    );
    const ref = (r: Row, id: unknown): InstanceRef => ({
      instanceId: String(id),
      name: String(r.name),
      accountId: String(r.account_id),
      accountName: String(r.account_name ?? ""),
      projectId: String(r.project_id),
      state: String(r.state),
    });
    return {
      gpus: gpus.map((r) => ({
        hostId: String(r.host_id),
        index: Number(r.gpu_index),
        holder: r.instance_id == null ? null : ref(r, r.instance_id),
      })),
      residents: residents.map((r) => ({
        ...ref(r, r.id),
        hostId: String(r.host_id),
        withoutGpu: Number(r.without_gpu) === 1,
        holdsCompute: Number(r.holds_compute) === 1,
      })),
    };
  }
}

/** An instance as the GPU map names it. */
export interface InstanceRef {
  instanceId: string;
  name: string;
  accountId: string;
  accountName: string;
  projectId: string;
  state: string;
}

/** One GPU of a host and the instance holding it (null: free). */
export interface GpuSeat {
  hostId: string;
  index: number;
  holder: InstanceRef | null;
}

/** An instance placed on a host that holds none of its GPUs: running without GPU, or stopped there. */
export interface HostResident extends InstanceRef {
  hostId: string;
  withoutGpu: boolean;
  holdsCompute: boolean;
}
