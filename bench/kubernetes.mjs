// 7. The kubernetes driver (issue #18) on the test control plane (scripts/k8s/: a real API server,
// scheduler and controller manager; kwok's nodes run no containers, so these are the costs of
// opencompshare and the control plane, not of pulling images or starting processes): 16 one-GPU
// instances created, stopped and started on two 8-GPU nodes, and the fleet sync (one
// transaction) for many nodes, as the informers report them.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../dist/src/config.js";
import { CatalogIndex, validateCatalog } from "../dist/src/core/catalog/catalog.js";
import { FleetSync } from "../dist/src/core/instances/fleet.js";
import { silentLogger } from "../dist/src/log.js";
import { createServer } from "../dist/src/server.js";
import { createParams } from "../dist/test/helpers.js";
import { kubernetesCatalog } from "../dist/test/kubernetes-fixtures.js";
import { K8S_CACHE, startKubernetes } from "../scripts/k8s.mjs";
import { ROOT, fmt, post, tmp } from "./lib.mjs";

const H100 = { GpuType: "h100", GPU: 1, CPU: 4, Memory: 16384, ChargeType: "Dynamic" };

async function allIn(url, ids, state) {
  for (;;) {
    const r = await post(url, "DescribeCompShareInstance", { UHostIds: ids, Limit: 100 });
    if ((r.UHostSet ?? []).every((u) => u.State === state)) return;
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function lifecycle(log) {
  const cluster = await startKubernetes({ nodes: 2, gpusPerNode: 8 });
  const dir = tmp("k8s");
  try {
    const { execFileSync } = await import("node:child_process");
    execFileSync(cluster.kubectl, ["--kubeconfig", cluster.kubeconfig, "create", "namespace", "ocs-bench"]);
    const config = loadConfig(
      {
        OCS_DATA_DIR: dir,
        OCS_PORT: "0",
        OCS_DRIVER: "kubernetes",
        KUBECONFIG: cluster.kubeconfig,
        OCS_K8S_NAMESPACE: "ocs-bench",
        OCS_CATALOG: kubernetesCatalog(),
        OCS_ROOT_PUBLIC_KEY: ROOT.publicKey,
        OCS_ROOT_PRIVATE_KEY: ROOT.privateKey,
      },
      dir,
    );
    const server = await createServer(config, { log: silentLogger, worker: { pollMs: 20 } });
    const { port } = await server.listen();
    const url = `http://127.0.0.1:${port}`;
    const step = async (what, fn) => {
      const t0 = performance.now();
      await fn();
      const ms = performance.now() - t0;
      log(`  ${what}: ${fmt(ms, 0)} ms`);
      return ms;
    };
    let ids = [];
    const createMs = await step("16 creates (MaxCount 16) to Running", async () => {
      const r = await post(url, "CreateCompShareInstance", createParams({ ...H100, MaxCount: 16 }));
      ids = r.UHostIds;
      await allIn(url, ids, "Running");
    });
    const stopMs = await step("16 stops to Stopped", async () => {
      for (const id of ids) await post(url, "StopCompShareInstance", { ...createParams(), UHostId: id });
      await allIn(url, ids, "Stopped");
    });
    const startMs = await step("16 starts to Running", async () => {
      for (const id of ids) await post(url, "StartCompShareInstance", { ...createParams(), UHostId: id });
      await allIn(url, ids, "Running");
    });
    await server.close();
    return { instances: 16, createMs, stopMs, startMs };
  } finally {
    await cluster.stop();
  }
}

async function fleetSync(log, nodes) {
  const dir = tmp("fleet");
  const catalog = JSON.parse((await import("node:fs")).readFileSync(kubernetesCatalog(), "utf8"));
  const config = loadConfig(
    { OCS_DATA_DIR: dir, OCS_ROOT_PUBLIC_KEY: ROOT.publicKey, OCS_ROOT_PRIVATE_KEY: ROOT.privateKey },
    dir,
  );
  const server = await createServer(config, { log: silentLogger, catalog: { ...catalog, hosts: [] } });
  const sync = new FleetSync(server.internals.store, new CatalogIndex(validateCatalog(catalog)));
  const fleet = Array.from({ length: nodes }, (_, i) => ({
    name: `gpu-${String(i).padStart(4, "0")}`,
    gpuProduct: "NVIDIA-H100-80GB-HBM3",
    gpus: 8,
    cpu: 64,
    memoryMB: 524288,
    schedulable: true,
  }));
  const time = async (f) => {
    const t0 = performance.now();
    await sync.apply(f);
    return performance.now() - t0;
  };
  const firstMs = await time(fleet);
  const again = [];
  for (let i = 0; i < 20; i++) {
    // one node's other workloads change, or it goes NotReady and back
    const f = fleet.map((n, j) => (j === i ? { ...n, gpus: 7, schedulable: i % 2 === 0 } : n));
    again.push(await time(f));
  }
  again.sort((a, b) => a - b);
  await server.close();
  log(`  fleet of ${nodes} nodes: first sync ${fmt(firstMs, 0)} ms, a change p50 ${fmt(again[10], 1)} ms`);
  return { nodes, firstMs, changeP50Ms: again[10] };
}

export async function kubernetesBench(log) {
  log("\n== 7. kubernetes driver (test control plane, kwok nodes)");
  const fleet = await fleetSync(log, 500);
  if (!existsSync(join(K8S_CACHE, "bin", "kube-apiserver"))) {
    log("  control plane not built (npm test builds it): lifecycle not measured");
    return { fleet };
  }
  return { fleet, lifecycle: await lifecycle(log) };
}
