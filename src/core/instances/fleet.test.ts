import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FleetNode } from "../../drivers/driver.js";
import { SqliteDb } from "../../store/db.js";
import { migrate } from "../../store/migrations.js";
import { Store } from "../../store/store.js";
import { CatalogIndex, DEFAULT_CATALOG, validateCatalog } from "../catalog/catalog.js";
import { FleetSync, mapNode } from "./fleet.js";

const catalog = new CatalogIndex(
  validateCatalog({
    ...DEFAULT_CATALOG,
    hosts: [],
    gpuTypes: DEFAULT_CATALOG.gpuTypes.map((g) =>
      g.name === "A800" ? { ...g, products: ["NVIDIA-A800-SXM4-80GB"] } : g,
    ),
  }),
);
const node = (name: string, more: Partial<FleetNode> = {}): FleetNode => ({
  name,
  gpuType: "4090",
  gpus: 8,
  cpu: 64,
  memoryMB: 524288,
  schedulable: true,
  ...more,
});

describe("fleet nodes as hosts", () => {
  it("maps a node to its GPU type by label, else by product through the catalog, and to a zone", () => {
    assert.deepEqual(mapNode(catalog, node("a")), {
      host: { id: "a", zone: "cn-wlcb-01", gpuType: "4090", gpus: 8, cpu: 64, memoryMB: 524288 },
      live: true,
      reason: undefined,
    });
    const byProduct = mapNode(
      catalog,
      node("b", { gpuType: undefined, gpuProduct: "nvidia-a800-sxm4-80gb" }),
    );
    assert.equal("host" in byProduct && byProduct.host.gpuType, "A800");
    const zoned = mapNode(catalog, node("c", { zone: "cn-bj2-02" }));
    assert.equal("host" in zoned && zoned.host.zone, "cn-bj2-02");
    assert.deepEqual(mapNode(catalog, node("d", { gpuType: "T4" })), {
      skipped: "its GPU type label T4 is not a catalog GPU type",
    });
    assert.match(
      JSON.stringify(mapNode(catalog, node("e", { gpuType: undefined, gpuProduct: "Tesla-T4" }))),
      /no catalog GPU type lists its GPU product Tesla-T4/,
    );
    assert.match(
      JSON.stringify(mapNode(catalog, node("f", { zone: "mars-1" }))),
      /mars-1 is not a catalog zone/,
    );
  });

  it("a catalog refuses one product under two types", () => {
    assert.throws(
      () =>
        validateCatalog({
          ...DEFAULT_CATALOG,
          gpuTypes: DEFAULT_CATALOG.gpuTypes.map((g) => ({ ...g, products: ["NVIDIA-X"] })),
        }),
      /products: NVIDIA-X is already a product of 4090/,
    );
  });

  it("syncs joins, leaves and NotReady into the hosts; held GPUs count against a node that shrank", async () => {
    const store = new Store(new SqliteDb(":memory:"));
    await migrate(store.db);
    const fleet = new FleetSync(store, catalog);
    assert.deepEqual(await fleet.apply([node("a"), node("b")]), {
      live: ["a", "b"],
      retired: [],
      skipped: [],
    });
    await store.tx(async (r) => {
      for (const i of [0, 1, 6, 7]) assert.ok(await r.hosts.takeGpu("a", i, `inst${i}`));
    });
    // Another workload takes 3 of a's GPUs: 8 - 3 = 5 for us, 4 held, 1 free; b goes NotReady.
    const change = await fleet.apply([
      node("a", { gpus: 5 }),
      node("b", { schedulable: false, reason: "node b is NotReady" }),
    ]);
    assert.deepEqual(change.retired, [{ id: "b", reason: "node b is NotReady" }]);
    const a = await store.hosts.get("a");
    assert.equal(a?.gpusFree, 1);
    assert.deepEqual(await store.hosts.freeGpuIndexes("a", 8), [2]);
    assert.equal((await store.hosts.roomFor("cn-wlcb-01", "4090")).length, 1, "b takes nothing new");
    // b leaves the cluster; a frees everything.
    const left = await fleet.apply([node("a", { gpus: 8 })]);
    assert.deepEqual(left, { live: [], retired: [], skipped: [] }, "b was already unavailable");
    assert.equal((await store.hosts.get("a"))?.gpusFree, 4);
    const back = await fleet.apply([node("a"), node("b")]);
    assert.deepEqual(back.live, ["b"]);
    await store.close();
  });
});
