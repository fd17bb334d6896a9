import type { HostSpec } from "../../domain/catalog.js";
import type { FleetNode } from "../../drivers/driver.js";
import type { Store } from "../../store/store.js";
import type { CatalogIndex } from "../catalog/catalog.js";

/** A fleet node as a host of the store, or why it is not one. */
export type MappedNode = { host: HostSpec; live: boolean; reason?: string } | { skipped: string };

/** What one sync changed, for the log. */
export interface FleetChange {
  /** Hosts that can take new instances now and could not before (joined, or Ready again). */
  live: string[];
  /** Hosts that could take new instances before and cannot now (left, NotReady, …), with why. */
  retired: Array<{ id: string; reason: string }>;
  /** Nodes that are not hosts because their GPU type or zone is unknown to the catalog. */
  skipped: Array<{ name: string; reason: string }>;
}

/**
 * Where a node's hosts sit in the catalog: its GPU type from the operator's label (a catalog type
 * name), else from its GPU model through the types' `products`; its zone from its zone label (a
 * catalog zone), else the default zone when the type is offered there, else the type's first zone.
 */
export function mapNode(catalog: CatalogIndex, n: FleetNode): MappedNode {
  const type = n.gpuType
    ? catalog.gpuType(n.gpuType)
    : n.gpuProduct
      ? catalog.gpuTypeOfProduct(n.gpuProduct)
      : undefined;
  if (!type) {
    return {
      skipped: n.gpuType
        ? `its GPU type label ${n.gpuType} is not a catalog GPU type`
        : n.gpuProduct
          ? `no catalog GPU type lists its GPU product ${n.gpuProduct} (gpuTypes[].products)`
          : "it has neither a GPU type label nor a GPU product label",
    };
  }
  let zone = n.zone;
  if (zone !== undefined && !catalog.zone(zone))
    return { skipped: `its zone label ${zone} is not a catalog zone` };
  if (zone === undefined) {
    const region = catalog.defaultRegion();
    const def = region.zones.find((z) => z.isDefault)?.zone ?? region.zones[0]?.zone;
    zone = def !== undefined && type.zones.includes(def) ? def : type.zones[0];
  }
  if (zone === undefined) return { skipped: `GPU type ${type.name} is offered in no zone` };
  return {
    host: { id: n.name, zone, gpuType: type.name, gpus: n.gpus, cpu: n.cpu, memoryMB: n.memoryMB },
    live: n.schedulable,
    reason: n.reason,
  };
}

/**
 * Keeps the hosts table in line with a driver's fleet (the kubernetes driver's GPU nodes): each
 * node is upserted with what this install may use of it, and every host that is not a schedulable
 * node now (gone, NotReady, cordoned, or of a type the catalog lacks) is retired, so placement and
 * capacity answers skip it. One transaction, with every host row locked as start-up recovery
 * locks them, so no placement interleaves; GPUs instances hold stay held (see HostsRepo.upsert).
 */
export class FleetSync {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogIndex,
  ) {}

  async apply(nodes: FleetNode[]): Promise<FleetChange> {
    const mapped = nodes.map((n) => ({ n, m: mapNode(this.catalog, n) }));
    const skipped = mapped.flatMap(({ n, m }) =>
      "skipped" in m ? [{ name: n.name, reason: m.skipped }] : [],
    );
    return this.store.tx(async (r) => {
      await r.hosts.lockAll();
      const before = new Map((await r.hosts.all()).map((h) => [h.id, !h.retired]));
      const live: string[] = [];
      const retired: FleetChange["retired"] = [];
      const liveIds: string[] = [];
      const reasons = new Map<string, string>();
      for (const { n, m } of mapped) {
        if ("skipped" in m) {
          reasons.set(n.name, m.skipped);
          continue;
        }
        await r.hosts.upsert(m.host);
        if (m.live) liveIds.push(m.host.id);
        else reasons.set(m.host.id, m.reason ?? "not schedulable");
      }
      await r.hosts.retireAllBut(liveIds);
      const now = new Set(liveIds);
      for (const id of liveIds) if (!before.get(id)) live.push(id);
      for (const [id, wasLive] of before) {
        if (wasLive && !now.has(id))
          retired.push({ id, reason: reasons.get(id) ?? "no longer in the cluster" });
      }
      return { live, retired, skipped };
    });
  }
}
