import type { HostRecord } from "../domain/records.js";
import type { GpuSeat, HostResident } from "../store/hosts-repo.js";
import type { Store } from "../store/store.js";

export type { GpuSeat, HostResident } from "../store/hosts-repo.js";

/** A host as the operator sees it: capacity, each GPU and who holds it, and what else sits there. */
export interface HostView extends HostRecord {
  gpus: GpuSeat[];
  residents: HostResident[];
}

/**
 * The operator's view of the hosts (the GPU map); read-only. (Not the kubernetes driver's fleet,
 * which instances/fleet.ts keeps in the hosts table.)
 */
export class HostMapService {
  constructor(private readonly store: Store) {}

  /** Every host (of one zone), retired ones last, with its GPUs and residents. */
  async hosts(zone?: string): Promise<HostView[]> {
    const [hosts, occupancy] = await Promise.all([this.store.hosts.all(), this.store.hosts.occupancy()]);
    const views = new Map<string, HostView>(hosts.map((h) => [h.id, { ...h, gpus: [], residents: [] }]));
    for (const g of occupancy.gpus) views.get(g.hostId)?.gpus.push(g);
    for (const r of occupancy.residents) views.get(r.hostId)?.residents.push(r);
    return [...views.values()]
      .filter((h) => zone === undefined || h.zone === zone)
      .sort((a, b) => Number(a.retired) - Number(b.retired) || a.id.localeCompare(b.id));
  }
}
