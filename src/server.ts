import { createServer as createHttpServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FaultTable } from "./actions/emulator/faults.js";
import { actionMap } from "./actions/registry.js";
import type { AppDeps } from "./actions/types.js";
import type { Config } from "./config.js";
import { ConfigError } from "./config.js";
import { AccountService } from "./core/accounts.js";
import { CatalogIndex, DEFAULT_CATALOG, loadCatalog, validateCatalog } from "./core/catalog.js";
import type { Catalog } from "./core/catalog.js";
import { OffsetClock } from "./core/clock.js";
import { randomId, randomIds } from "./core/ids.js";
import type { IdGen } from "./core/ids.js";
import { DEFAULT_TIMINGS, InstanceService } from "./core/instances.js";
import type { LifecycleTimings } from "./core/instances.js";
import { SecretBox, loadOrCreateMasterKey } from "./core/secrets.js";
import { DockerDriver } from "./drivers/docker/docker-driver.js";
import { discoverGpus, findDriverFiles } from "./drivers/docker/gpus.js";
import type { HostGpu } from "./drivers/docker/gpus.js";
import type { Driver } from "./drivers/driver.js";
import { SimDriver } from "./drivers/sim/sim-driver.js";
import type { Logger } from "./log.js";
import { createLogger } from "./log.js";
import { Metrics } from "./metrics.js";
import { handleApi } from "./protocol/gateway.js";
import type { GatewayDeps } from "./protocol/gateway.js";
import type { Db } from "./store/db.js";
import { instancesRepo } from "./store/instances-repo.js";
import { storeId } from "./store/meta-repo.js";
import { openDb } from "./store/open.js";
import { recoverAtStart } from "./store/recovery.js";
import { Reconciler } from "./worker/reconciler.js";
import { DEFAULT_WORKER_OPTIONS, Worker } from "./worker/worker.js";
import type { WorkerOptions } from "./worker/worker.js";

export interface ServerOptions {
  log?: Logger;
  ids?: IdGen;
  catalog?: Catalog;
  timings?: Partial<LifecycleTimings>;
  worker?: Partial<WorkerOptions>;
}

export interface OcsServer {
  app: AppDeps;
  gateway: GatewayDeps;
  http: Server;
  config: Config;
  /** Set on the first start when no root keys were configured: print once, never stored in clear. */
  generatedRootKeys?: { publicKey: string; privateKey: string };
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/** Brings the instances' GPUs and CPU/memory in the store in line with the catalog's hosts. */
async function syncHosts(db: Db, catalog: Catalog): Promise<void> {
  await db.tx(async (tx) => {
    for (const h of catalog.hosts) await instancesRepo.upsertHost(tx, h);
    await instancesRepo.retireHostsNotIn(
      tx,
      catalog.hosts.map((h) => h.id),
    );
  });
}

/**
 * The docker driver runs one machine: the catalog must list it as its only host, with no more GPUs
 * than nvidia-smi finds (unless GPUs are only accounted, OCS_DOCKER_GPU_MODE=none).
 */
function dockerDriver(config: Config, catalog: Catalog, storeId: string): DockerDriver {
  if (catalog.hosts.length !== 1) {
    throw new ConfigError(
      `OCS_CATALOG: OCS_DRIVER=docker runs one host, so the catalog must list exactly this machine as its one host (it lists ${catalog.hosts.length})`,
    );
  }
  const host = catalog.hosts[0] as Catalog["hosts"][number];
  let inventory: HostGpu[] = [];
  if (config.docker.gpuMode !== "none") {
    try {
      inventory = discoverGpus(config.docker.nvidiaSmi);
    } catch (e) {
      throw new ConfigError(
        `OCS_DOCKER_NVIDIA_SMI: cannot list this host's GPUs with ${config.docker.nvidiaSmi} (${(e as Error).message.split("\n")[0]}); set OCS_DOCKER_GPU_MODE=none on a host without GPUs`,
      );
    }
    if (inventory.length < host.gpus) {
      throw new ConfigError(
        `OCS_CATALOG: host ${host.id} declares ${host.gpus} GPUs but nvidia-smi lists ${inventory.length}`,
      );
    }
  }
  return new DockerDriver({
    socketPath: config.docker.socketPath,
    gpuMode: config.docker.gpuMode,
    inventory,
    files: { ...findDriverFiles(), bindHostLoader: config.docker.bindHostLoader },
    hostIp: config.docker.hostIp,
    network: config.docker.network,
    storeId,
  });
}

/**
 * The composition root: config → store → driver → worker → HTTP app. Nothing here is global, so a
 * test builds a whole server in-process (with `port: 0`).
 */
export async function createServer(config: Config, opts: ServerOptions = {}): Promise<OcsServer> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const catalog = opts.catalog
    ? validateCatalog(opts.catalog)
    : config.catalogPath
      ? loadCatalog(config.catalogPath)
      : DEFAULT_CATALOG;
  const index = new CatalogIndex(catalog);
  const secrets = new SecretBox(loadOrCreateMasterKey(config.dataDir, config.masterKey));
  const clock = new OffsetClock();
  const ids = opts.ids ?? randomIds;
  const rootKeys =
    config.rootPublicKey && config.rootPrivateKey
      ? { publicKey: config.rootPublicKey, privateKey: config.rootPrivateKey }
      : undefined;
  let root: Awaited<ReturnType<AccountService["ensureRoot"]>> | undefined;
  // Start-up runs under the migration lock on PostgreSQL, so replicas starting together take turns.
  const db = await openDb(config, async (d) => {
    await syncHosts(d, catalog);
    const repaired = await recoverAtStart(d, catalog, {
      releaseAllClaims: d.dialect === "sqlite",
      now: Date.now(),
    });
    if (Object.values(repaired).some((n) => n > 0))
      log.warn("start-up recovery repaired the store", repaired);
    // Under the same lock: two replicas starting on an empty store create one root account.
    root = await new AccountService(d, secrets, clock, ids).ensureRoot(rootKeys);
  });
  const accounts = new AccountService(db, secrets, clock, ids);

  const sim = config.driver === "sim" ? new SimDriver(config.simLatencyMs) : undefined;
  const docker =
    config.driver === "docker"
      ? dockerDriver(config, catalog, await storeId(db, () => randomId("store", 12)))
      : undefined;
  const driver: Driver = (sim ?? docker) as Driver;
  const workerRef: { current?: Worker } = {};
  const timings: LifecycleTimings = {
    ...DEFAULT_TIMINGS,
    recycleRetentionMs: config.recycleRetentionHours * 3600_000,
    ...opts.timings,
  };
  const instances = new InstanceService(db, index, clock, ids, secrets, timings, () =>
    workerRef.current?.kick(),
  );
  const worker = new Worker(db, instances, driver, index, clock, log.child({ component: "worker" }), {
    ...DEFAULT_WORKER_OPTIONS,
    claimMs: config.workerClaimSeconds * 1000,
    ...opts.worker,
  });
  workerRef.current = worker;

  // The simulator's world lives in memory; after a restart it is rebuilt from the store.
  for (const row of sim ? await db.all("SELECT id, state FROM instances WHERE in_recycle = 0") : []) {
    const state = String(row.state);
    sim?.instances.set(String(row.id), {
      running: state === "Running" || state === "Rebooting" || state === "Stopping",
      gpus: [],
      systemDiskGeneration: 1,
    });
  }

  const reconciler = docker
    ? new Reconciler(docker, instances, log.child({ component: "reconciler" }), docker)
    : undefined;
  const faults = new FaultTable();
  const app: AppDeps = {
    db,
    catalog: index,
    clock,
    accounts,
    instances,
    driver,
    worker,
    faults,
    sim,
    log,
    reset: async () => {
      await worker.stop();
      await db.tx(async (tx) => {
        await tx.run("DELETE FROM tasks");
        await tx.run("DELETE FROM disks");
        await tx.run("UPDATE host_gpus SET instance_id = NULL");
        await tx.run("DELETE FROM instances");
        await tx.run("UPDATE hosts SET cpu_used = 0, memory_used = 0");
      });
      clock.reset();
      sim?.reset();
      if (sim) sim.latencyMs = config.simLatencyMs;
      faults.clear();
      worker.start();
    },
  };
  const metrics = new Metrics();
  const gateway: GatewayDeps = { app, actions: actionMap(), metrics, log };

  const http = createHttpServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ status: "ok", driver: driver.name }));
      return;
    }
    if (req.method === "GET" && path === "/metrics") {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      res.end(metrics.render());
      return;
    }
    handleApi(gateway, req, res).catch((e) => {
      log.error("unhandled", { err: String(e) });
      if (!res.headersSent) res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ Action: "Response", RetCode: 130, Message: "Internal error" }));
    });
  });
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  http.requestTimeout = 60_000;

  let closed = false;
  return {
    app,
    gateway,
    http,
    config,
    generatedRootKeys: root?.generated,
    async listen() {
      await new Promise<void>((resolveListen, reject) => {
        http.once("error", reject);
        http.listen(config.port, config.host, () => resolveListen());
      });
      worker.start();
      await reconciler?.start();
      const addr = http.address() as AddressInfo;
      return { host: config.host, port: addr.port };
    },
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((r) => {
        http.close(() => r());
        http.closeIdleConnections();
      });
      reconciler?.stop();
      await worker.stop();
      await db.close();
    },
  };
}
