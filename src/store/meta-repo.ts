import type { Db } from "./db.js";

/**
 * This store's id, made on first use. Replicas sharing one database share it; another install
 * (another database) has its own, so what a driver labels with it (the docker driver's
 * containers, volumes and snapshots) is never taken for another install's and removed.
 */
export async function storeId(db: Db, fresh: () => string): Promise<string> {
  await db.run("INSERT INTO store_meta (key, value) VALUES ('store_id', ?) ON CONFLICT (key) DO NOTHING", [
    fresh(),
  ]);
  const rows = await db.all("SELECT value FROM store_meta WHERE key = 'store_id'");
  return String(rows[0]?.value);
}
