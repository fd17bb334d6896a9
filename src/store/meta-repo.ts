import type { Db } from "./db.js";

/** Facts about the store itself (store_meta). */
export class MetaRepo {
  constructor(private readonly db: Db) {}

  /**
   * This store's id, made on first use. Replicas sharing one database share it; another install
   * (another database) has its own, so what a driver labels with it (the docker driver's
   * containers, volumes and snapshots) is never taken for another install's and removed.
   */
  async storeId(fresh: () => string): Promise<string> {
    await this.db.run(
      "INSERT INTO store_meta (key, value) VALUES ('store_id', ?) ON CONFLICT (key) DO NOTHING",
      [fresh()],
    );
    const rows = await this.db.all("SELECT value FROM store_meta WHERE key = 'store_id'");
    return String(rows[0]?.value);
  }
}
