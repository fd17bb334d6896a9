import type { Db, Param } from "./db.js";

/** One stored sample: an instance's readings at one instant (the shape is core's, kept as JSON). */
export interface StoredSample {
  instanceId: string;
  at: number;
  data: Record<string, unknown>;
}

/**
 * The monitoring samples: one row per instance per collector tick, pruned by age. The only place
 * their SQL lives.
 */
export class MonitorRepo {
  constructor(private readonly db: Db) {}

  /** Writes one tick's samples; a tick written twice (a retried task) keeps the first. */
  async insertMany(samples: StoredSample[]): Promise<void> {
    for (const s of samples) {
      await this.db.run(
        "INSERT INTO monitor_samples (instance_id, at, data) VALUES (?, ?, ?) ON CONFLICT (instance_id, at) DO NOTHING",
        [s.instanceId, s.at, JSON.stringify(s.data)],
      );
    }
  }

  /** Samples of one instance in [from, to], oldest first. */
  async range(instanceId: string, from: number, to: number): Promise<StoredSample[]> {
    const rows = await this.db.all(
      "SELECT instance_id, at, data FROM monitor_samples WHERE instance_id = ? AND at >= ? AND at <= ? ORDER BY at",
      [instanceId, from, to],
    );
    return rows.map((r) => ({
      instanceId: String(r.instance_id),
      at: Number(r.at),
      data: JSON.parse(String(r.data)) as Record<string, unknown>,
    }));
  }

  /** The newest sample of each of these instances that has one. */
  async latest(instanceIds: string[]): Promise<Map<string, StoredSample>> {
    const out = new Map<string, StoredSample>();
    if (instanceIds.length === 0) return out;
    const marks = instanceIds.map(() => "?").join(", ");
    const rows = await this.db.all(
      `SELECT s.instance_id, s.at, s.data FROM monitor_samples s
         JOIN (SELECT instance_id, MAX(at) AS at FROM monitor_samples WHERE instance_id IN (${marks}) GROUP BY instance_id) m
           ON m.instance_id = s.instance_id AND m.at = s.at`,
      instanceIds as Param[],
    );
    for (const r of rows) {
      out.set(String(r.instance_id), {
        instanceId: String(r.instance_id),
        at: Number(r.at),
        data: JSON.parse(String(r.data)) as Record<string, unknown>,
      });
    }
    return out;
  }

  /** Drops samples older than `before` (the retention); returns how many went. */
  pruneBefore(before: number): Promise<number> {
    return this.db.run("DELETE FROM monitor_samples WHERE at < ?", [before]);
  }

  async removeAll(): Promise<void> {
    await this.db.run("DELETE FROM monitor_samples");
  }
}
