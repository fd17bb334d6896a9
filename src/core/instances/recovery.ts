import type { Catalog } from "../../domain/catalog.js";
import type { Store } from "../../store/store.js";
import { computeOf } from "./compute.js";
import type { OperationEngine } from "./engine.js";
import type { OperationName } from "./operations.js";

/**
 * Start-up recovery, run once per replica start (under the migration lock on PostgreSQL):
 * - on SQLite (one process), claims left by the previous run are void;
 * - an instance whose operation has no transition task (cannot happen through the API, since both
 *   are written in one transaction, but a hand-edited store can) gets one, so the worker drives it
 *   to its end state;
 * - GPUs held by instances that no longer hold compute are released, and every host's CPU/memory
 *   usage is recomputed from the instances, with the host rows locked so no allocation interleaves;
 * - the instance counts (kept by the store in the same transaction as each change) are checked
 *   against the instances and rebuilt if they differ (only a hand-edited store makes them).
 * Returns what it repaired, for the log.
 */
export async function recoverAtStart(
  store: Store,
  catalog: Catalog,
  engine: OperationEngine,
  opts: { releaseAllClaims: boolean; now: number },
): Promise<{
  claimsReleased: number;
  tasksAdded: number;
  gpusReleased: number;
  hostsFixed: number;
  countsFixed: number;
}> {
  const countsFixed = await store.counts.repair();
  const fixed = await store.tx(async (r) => {
    const claimsReleased = opts.releaseAllClaims ? await r.tasks.releaseClaims() : 0;
    await r.hosts.lockAll();

    let tasksAdded = 0;
    for (const o of await r.instances.operationsWithoutTask()) {
      // An unknown name is finished as stale by the engine, which clears nothing: left as found.
      await engine.enqueue(r, [o.id], o.operation as OperationName, opts.now);
      tasksAdded++;
    }

    const gpusReleased = await r.hosts.releaseGpusNotHeld();

    const types = new Map(catalog.gpuTypes.map((g) => [g.name, g]));
    const usage = new Map<string, { cpu: number; memory: number }>();
    for (const h of await r.instances.holdingCompute()) {
      const spec = computeOf(h, types.get(h.gpuType));
      const u = usage.get(h.hostId) ?? { cpu: 0, memory: 0 };
      u.cpu += spec.cpu;
      u.memory += spec.memory;
      usage.set(h.hostId, u);
    }
    let hostsFixed = 0;
    for (const h of await r.hosts.all()) {
      const u = usage.get(h.id) ?? { cpu: 0, memory: 0 };
      if (h.cpuUsed !== u.cpu || h.memoryUsed !== u.memory) {
        await r.hosts.setUsage(h.id, u.cpu, u.memory);
        hostsFixed++;
      }
    }
    return { claimsReleased, tasksAdded, gpusReleased, hostsFixed };
  });
  return { ...fixed, countsFixed };
}

/** Brings the hosts in the store in line with the catalog's (hosts gone from it are retired). */
export async function syncHosts(store: Store, catalog: Catalog): Promise<void> {
  await store.tx(async (r) => {
    for (const h of catalog.hosts) await r.hosts.upsert(h);
    await r.hosts.retireAllBut(catalog.hosts.map((h) => h.id));
  });
}
