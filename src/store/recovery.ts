import type { Catalog } from "../core/catalog.js";
import { randomId } from "../core/ids.js";
import type { Db } from "./db.js";

/**
 * Start-up recovery, run once per replica start (under the migration lock on PostgreSQL):
 * - on SQLite (one process), claims left by the previous run are void;
 * - an instance whose operation has no transition task (cannot happen through the API, since both
 *   are written in one transaction, but a hand-edited store can) gets one, so the worker drives it
 *   to its end state;
 * - GPUs held by instances that no longer hold compute are released, and every host's CPU/memory
 *   usage is recomputed from the instances, with the host rows locked so no allocation interleaves.
 * Returns what it repaired, for the log.
 */
export async function recoverAtStart(
  db: Db,
  catalog: Catalog,
  opts: { releaseAllClaims: boolean; now: number },
): Promise<{ claimsReleased: number; tasksAdded: number; gpusReleased: number; hostsFixed: number }> {
  return db.tx(async (tx) => {
    const claimsReleased = opts.releaseAllClaims
      ? await tx.run(
          "UPDATE tasks SET claimed_by = NULL, claim_expires_at = NULL WHERE claimed_by IS NOT NULL",
        )
      : 0;
    if (tx.dialect === "postgres") await tx.all("SELECT id FROM hosts ORDER BY id FOR UPDATE");

    let tasksAdded = 0;
    const orphans = await tx.all(
      `SELECT id, operation FROM instances i WHERE operation IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.instance_id = i.id AND t.kind = 'transition')`,
    );
    for (const o of orphans) {
      await tx.run(
        "INSERT INTO tasks (id, kind, instance_id, due_at, claimed_by, claim_expires_at, attempts, payload, created_at) VALUES (?, 'transition', ?, ?, NULL, NULL, 0, ?, ?)",
        [
          randomId("task", 12),
          String(o.id),
          opts.now,
          JSON.stringify({ operation: String(o.operation) }),
          opts.now,
        ],
      );
      tasksAdded++;
    }

    const gpusReleased = await tx.run(
      `UPDATE host_gpus SET instance_id = NULL WHERE instance_id IS NOT NULL AND instance_id NOT IN
         (SELECT id FROM instances WHERE holds_compute = 1 AND without_gpu = 0)`,
    );

    const noGpu = new Map(catalog.gpuTypes.map((g) => [g.name, g.withoutGpu]));
    const holding = await tx.all(
      "SELECT host_id, gpu_type, cpu, memory, without_gpu FROM instances WHERE holds_compute = 1 AND host_id IS NOT NULL",
    );
    const usage = new Map<string, { cpu: number; memory: number }>();
    for (const r of holding) {
      const spec = Number(r.without_gpu) === 1 ? noGpu.get(String(r.gpu_type)) : undefined;
      const u = usage.get(String(r.host_id)) ?? { cpu: 0, memory: 0 };
      u.cpu += spec ? spec.cpu : Number(r.cpu);
      u.memory += spec ? spec.memory : Number(r.memory);
      usage.set(String(r.host_id), u);
    }
    let hostsFixed = 0;
    for (const h of await tx.all("SELECT id, cpu_used, memory_used FROM hosts")) {
      const u = usage.get(String(h.id)) ?? { cpu: 0, memory: 0 };
      if (Number(h.cpu_used) !== u.cpu || Number(h.memory_used) !== u.memory) {
        await tx.run("UPDATE hosts SET cpu_used = ?, memory_used = ? WHERE id = ?", [
          u.cpu,
          u.memory,
          String(h.id),
        ]);
        hostsFixed++;
      }
    }
    return { claimsReleased, tasksAdded, gpusReleased, hostsFixed };
  });
}
