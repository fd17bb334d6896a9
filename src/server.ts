import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createSecureContext } from "node:tls";
import { actionMap } from "./actions/registry.js";
import type { GatewayDeps } from "./api/gateway.js";
import { createHttpServer, reloadTls } from "./api/http.js";
import type { TlsFiles } from "./api/http.js";
import { Metrics } from "./api/metrics.js";
import { extraRoutes } from "./api/routes.js";
import { gracefulCloser } from "./api/shutdown.js";
import { TokenBuckets } from "./api/throttle.js";
import type { Config } from "./config.js";
import { ConfigError, sqlitePath } from "./config.js";
import { AccountService } from "./core/accounts/accounts.js";
import { AuditLog, ensureAuditRetention } from "./core/audit/audit.js";
import { CatalogIndex, DEFAULT_CATALOG, loadCatalog, validateCatalog } from "./core/catalog/catalog.js";
import { SpecRules } from "./core/catalog/spec-rules.js";
import { DiskService } from "./core/disks/disks.js";
import { EmulatorService } from "./core/emulator/emulator.js";
import { FaultTable } from "./core/emulator/faults.js";
import { EventFeed, type EventFeedKnobs } from "./core/event-feed.js";
import { HostMapService } from "./core/host-map.js";
import { ImageService } from "./core/images/images.js";
import { ImageJobs, recoverImageJobs } from "./core/images/jobs.js";
import { ImageResolver } from "./core/images/resolve.js";
import { OperationEngine } from "./core/instances/engine.js";
import type { EngineDeps } from "./core/instances/engine.js";
import { FleetSync } from "./core/instances/fleet.js";
import { InstanceService } from "./core/instances/instances.js";
import { InstanceReconciliation } from "./core/instances/reconcile.js";
import { recoverAtStart, syncHosts } from "./core/instances/recovery.js";
import { InstanceTimers } from "./core/instances/timers.js";
import type { LifecycleTimings } from "./core/instances/timings.js";
import { DEFAULT_TIMINGS } from "./core/instances/timings.js";
import { MonitorService, ensureMonitorTask } from "./core/monitor/monitor.js";
import { SecretBox, loadOrCreateMasterKey, privateDir } from "./core/secrets.js";
import type { Services } from "./core/services.js";
import { TaskQueue } from "./core/tasks.js";
import type { TaskHandlers } from "./core/tasks.js";
import type { Catalog } from "./domain/catalog.js";
import { OffsetClock } from "./domain/clock.js";
import { randomId, randomIds } from "./domain/ids.js";
import type { IdGen } from "./domain/ids.js";
import { dockerDriver } from "./drivers/docker/from-config.js";
import type { Driver } from "./drivers/driver.js";
import { kubernetesDriver } from "./drivers/kubernetes/from-config.js";
import { SimDriver } from "./drivers/sim/sim-driver.js";
import type { Logger } from "./log.js";
import { createLogger, maskUrlPasswords } from "./log.js";
import type { Db } from "./store/db.js";
import type { Store } from "./store/store.js";
import { openStore } from "./store/store.js";
import { Reconciler } from "./worker/reconciler.js";
import { DEFAULT_WORKER_OPTIONS, Worker } from "./worker/worker.js";
import type { WorkerOptions } from "./worker/worker.js";

export interface ServerOptions {
  log?: Logger;
  ids?: IdGen;
  catalog?: Catalog;
  timings?: Partial<LifecycleTimings>;
  worker?: Partial<WorkerOptions>;
  events?: EventFeedKnobs;
}

/** The parts of a running server that tests and benchmarks inspect or drive directly. */
export interface Internals {
  store: Store;
  /** The raw SQL handle, for tests that check the tables themselves. */
  db: Db;
  clock: OffsetClock;
  worker: Worker;
  driver: Driver;
  /** Present with the sim driver. */
  sim?: SimDriver;
  /** The live side of the event outbox (GET /events). */
  events: EventFeed;
}

export interface OcsServer {
  services: Services;
  gateway: GatewayDeps;
  http: Server;
  config: Config;
  log: Logger;
  internals: Internals;
  /** Set on the first start when no root keys were configured: print once, never stored in clear. */
  generatedRootKeys?: { publicKey: string; privateKey: string };
  /** Whether the listener speaks HTTPS (OCS_TLS_CERT / OCS_TLS_KEY). */
  tls: boolean;
  /** Reads OCS_TLS_CERT / OCS_TLS_KEY again for new connections (SIGHUP); throws, keeping the old pair, on a bad one. */
  reloadTls(): void;
  /** Starts the worker and the reconciler without HTTP (in-process tests dispatch directly). */
  start(): Promise<void>;
  /** Starts everything and listens. */
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

/**
 * The composition root: config → store → driver → core services → worker → HTTP. Nothing here is
 * global, so a test builds a whole server in-process (with `port: 0`).
 */
export async function createServer(config: Config, opts: ServerOptions = {}): Promise<OcsServer> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const catalog = opts.catalog
    ? validateCatalog(opts.catalog)
    : config.catalogPath
      ? loadCatalog(config.catalogPath)
      : DEFAULT_CATALOG;
  const index = new CatalogIndex(catalog);
  const rules = new SpecRules(index);
  const secrets = new SecretBox(masterKey(config, log));
  const tlsFiles = config.security.tlsCert ? readTls(config) : undefined;
  const clock = new OffsetClock();
  const ids = opts.ids ?? randomIds;
  const timings: LifecycleTimings = {
    ...DEFAULT_TIMINGS,
    recycleRetentionMs: config.recycleRetentionHours * 3600_000,
    ...opts.timings,
  };
  const rootKeys =
    config.rootPublicKey && config.rootPrivateKey
      ? { publicKey: config.rootPublicKey, privateKey: config.rootPrivateKey }
      : undefined;
  const workerRef: { current?: Worker } = {};
  const kick = () => workerRef.current?.kick();
  const engineDeps = (store: Store): EngineDeps => ({
    store,
    catalog: index,
    rules,
    clock,
    ids,
    secrets,
    timings,
    images: new ImageResolver(store, index),
    kick,
  });
  const engineFor = (store: Store) => new OperationEngine(engineDeps(store));

  let root: Awaited<ReturnType<AccountService["ensureRoot"]>> | undefined;
  const accountOptions = { defaultGpuQuota: config.security.defaultGpuQuota };
  // Start-up runs under the migration lock on PostgreSQL, so replicas starting together take turns.
  const store = await openStore(storeLocation(config), async (s) => {
    // With the kubernetes driver the hosts are the cluster's nodes (synced by the reconciler).
    if (config.driver !== "kubernetes") await syncHosts(s, catalog);
    const repaired = {
      ...(await recoverAtStart(s, catalog, engineFor(s), {
        releaseAllClaims: s.dialect === "sqlite",
        now: Date.now(),
      })),
      ...(await recoverImageJobs(s, Date.now())),
    };
    if (Object.values(repaired).some((n) => n > 0))
      log.warn("start-up recovery repaired the store", repaired);
    await s.tx(async (r) => {
      await ensureMonitorTask(r, clock.now());
      await ensureAuditRetention(r, clock.now());
    });
    // Under the same lock: two replicas starting on an empty store create one root account.
    root = await new AccountService(s, secrets, clock, ids, accountOptions).ensureRoot(rootKeys);
  });

  const sim = config.driver === "sim" ? new SimDriver(config.simLatencyMs, Math.random, clock) : undefined;
  const docker =
    config.driver === "docker"
      ? dockerDriver(config, catalog, await store.meta.storeId(() => randomId("store", 12)))
      : undefined;
  const kubernetes =
    config.driver === "kubernetes"
      ? // Its GPU nodes are the hosts, so the catalog's `hosts` are not used.
        kubernetesDriver(config.kubernetes, await store.meta.storeId(() => randomId("store", 12)))
      : undefined;
  const driver: Driver = (sim ?? docker ?? kubernetes) as Driver;

  const deps = engineDeps(store);
  const engine = new OperationEngine(deps);
  const accounts = new AccountService(store, secrets, clock, ids, accountOptions);
  const audit = new AuditLog(
    store,
    clock,
    log.child({ component: "audit" }),
    config.security.auditRetentionDays * 86_400_000,
  );
  for (const publicKey of root?.replaced ?? []) {
    log.warn("root key replaced by OCS_ROOT_PUBLIC_KEY; the old one no longer works", { publicKey });
    audit.record(adminEntry("root key replaced at start", { publicKey, client: "start-up" }));
  }
  if (root?.configuredDisabled)
    log.warn(
      "OCS_ROOT_PUBLIC_KEY names a key an operator disabled; it stays disabled (ocs admin key enable)",
    );
  const images = new ImageService({ ...deps, resolver: deps.images, driver, quota: config.imageQuota });
  const imageJobs = new ImageJobs({ store, clock, driverAttempts: timings.driverAttempts });
  const instances = new InstanceService({ ...deps, engine, driver });
  const disks = new DiskService({ store, engine, catalog: index, clock, ids, kick });
  const monitor = new MonitorService({
    store,
    clock,
    intervalMs: config.monitorIntervalSeconds * 1000,
    retentionMs: config.monitorRetentionHours * 3600_000,
  });
  const timers = new InstanceTimers(store, engine, clock, log.child({ component: "timers" }));
  const handlers: TaskHandlers = {
    transition: (task, d) => engine.runTask(task, d),
    "scheduled-stop": { batch: (tasks) => timers.scheduledStops(tasks) },
    release: (task) => timers.release(task),
    purge: (task, d) => timers.purge(task, d),
    image: (task, d) => imageJobs.capture(task, d),
    "image-remove": (task, d) => imageJobs.remove(task, d),
    "disk-release": (task, d) => disks.release(task, d),
    "monitor-sample": (task, d) => monitor.collectTask(task, d),
    "audit-retention": () => audit.purge(),
  };
  const worker = new Worker(
    new TaskQueue(store),
    handlers,
    driver,
    clock,
    log.child({ component: "worker" }),
    {
      ...DEFAULT_WORKER_OPTIONS,
      claimMs: config.workerClaimSeconds * 1000,
      batch: config.workerConcurrency,
      ...opts.worker,
    },
  );
  workerRef.current = worker;

  // The simulator's world lives in memory; after a restart it is recalled from the store.
  sim?.recallFrom({
    async running(id) {
      const inst = await store.instances.get(id);
      if (!inst || inst.inRecycle) return undefined;
      return inst.state === "Running" || inst.state === "Rebooting" || inst.state === "Stopping";
    },
    ids: async () => (await store.instances.liveStates()).map((x) => x.id),
  });
  if (sim) sim.restoreImages(await store.images.byIds(await store.images.liveIds()));

  const real = docker ?? kubernetes;
  const reconciler = real
    ? new Reconciler(
        real,
        new InstanceReconciliation(store, engine, clock),
        log.child({ component: "reconciler" }),
        real,
        undefined,
        kubernetes ? new FleetSync(store, index) : undefined,
      )
    : undefined;
  const faults = new FaultTable();
  const emulator = sim
    ? new EmulatorService({
        clock,
        sim,
        faults,
        kick,
        exists: async (id) => (await store.instances.get(id)) !== undefined,
        reset: async () => {
          // A capture in flight follows the clock: abandoned, so the worker need not wait for it.
          sim.cancelCaptures();
          await worker.stop();
          await store.tx(async (r) => {
            await r.tasks.removeAll();
            await r.images.removeAll();
            await r.disks.removeAll();
            await r.monitor.removeAll();
            await r.hosts.releaseAll();
            await r.instances.removeAll();
          });
          clock.reset();
          // Due by the clock as it is now: made before the reset, the collector would wait out the offset.
          await store.tx(async (r) => {
            await ensureMonitorTask(r, clock.now());
            await ensureAuditRetention(r, clock.now());
          });
          sim.reset();
          sim.latencyMs = config.simLatencyMs;
          faults.clear();
          worker.start();
        },
      })
    : undefined;
  const events = new EventFeed(store, clock, log, { ...config.events, ...opts.events });
  const services: Services = {
    clock,
    catalog: index,
    rules,
    accounts,
    audit,
    instances,
    images,
    disks,
    monitor,
    events,
    hostMap: new HostMapService(store),
    emulator,
  };
  const sec = config.security;
  const gateway: GatewayDeps = {
    services,
    faults,
    actions: actionMap(),
    metrics: new Metrics(),
    log,
    strictParams: config.strictParams,
    limits: sec.limits,
    authFailures: new TokenBuckets({
      burst: sec.authFailureBurst,
      perSecond: sec.authFailuresPerMinute / 60,
    }),
    accountRate:
      sec.accountRate > 0
        ? new TokenBuckets({ burst: sec.accountBurst, perSecond: sec.accountRate })
        : undefined,
  };
  const http = createHttpServer({
    gateway,
    log,
    driverName: driver.name,
    tls: tlsFiles,
    metricsToken: sec.metricsToken,
    limits: sec,
    trustProxy: sec.trustProxy,
    extraRoutes: extraRoutes(gateway, events, opts.events?.heartbeatMs),
  });
  const closeHttp = gracefulCloser(http, () => events.close());

  let closed = false;
  let started = false;
  const start = async () => {
    if (started) return;
    started = true;
    worker.start();
    events.start();
    await reconciler?.start();
  };
  return {
    services,
    gateway,
    http,
    config,
    log,
    internals: { store, db: store.db, clock, worker, driver, sim, events },
    generatedRootKeys: root?.generated,
    tls: tlsFiles !== undefined,
    reloadTls() {
      if (!tlsFiles) throw new Error("TLS is not configured (OCS_TLS_CERT / OCS_TLS_KEY)");
      reloadTls(http, readTls(config));
    },
    start,
    async listen() {
      await new Promise<void>((resolveListen, reject) => {
        http.once("error", reject);
        http.listen(config.port, config.host, () => resolveListen());
      });
      await start();
      const addr = http.address() as AddressInfo;
      return { host: config.host, port: addr.port };
    },
    async close() {
      if (closed) return;
      closed = true;
      await closeHttp();
      reconciler?.stop();
      await worker.stop();
      await audit.close();
      await store.close();
    },
  };
}

/**
 * The master key, and a private data dir: 0700 (tightened with a warning when others could read
 * it), since it holds the SQLite files and, unless OCS_MASTER_KEY(_FILE) says otherwise, the key.
 */
function masterKey(config: Config, log: Logger): Buffer {
  const usesDataDir =
    !config.databaseUrl?.startsWith("postgres") ||
    (config.masterKey === undefined && config.security.masterKeyFile === undefined);
  if (usesDataDir && privateDir(config.dataDir))
    log.warn("the data dir was readable by other users; made it 0700", { dataDir: config.dataDir });
  try {
    return loadOrCreateMasterKey({
      dataDir: config.dataDir,
      inline: config.masterKey,
      file: config.security.masterKeyFile,
    });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

/** The PEM pair, checked by building a TLS context from it (a bad file stops the start, naming the key). */
function readTls(config: Config): TlsFiles {
  const read = (key: string, path: string | undefined) => {
    try {
      return readFileSync(path as string);
    } catch (e) {
      throw new ConfigError(`${key}: cannot read ${path} (${(e as Error).message})`);
    }
  };
  const files = {
    cert: read("OCS_TLS_CERT", config.security.tlsCert),
    key: read("OCS_TLS_KEY", config.security.tlsKey),
  };
  try {
    createSecureContext(files);
  } catch (e) {
    throw new ConfigError(
      `OCS_TLS_CERT / OCS_TLS_KEY: not a usable PEM certificate and key (${(e as Error).message})`,
    );
  }
  return files;
}

/** An audit entry for an operator's change (ocs admin, start-up). */
export function adminEntry(
  action: string,
  what: { publicKey?: string; accountId?: string; client?: string; message?: string },
): Parameters<AuditLog["record"]>[0] {
  return {
    kind: "admin",
    accountId: what.accountId ?? null,
    publicKey: what.publicKey ?? null,
    client: what.client ?? "cli",
    action,
    resourceIds: [],
    retCode: 0,
    requestId: "",
    message: what.message ?? "",
  };
}

/** The store's location for messages: a connection string's password masked. */
export function storeLabel(config: Config): string {
  return maskUrlPasswords(config.databaseUrl ?? sqlitePath(config));
}

/** Where the configured store lives. */
function storeLocation(config: Config) {
  return config.databaseUrl?.startsWith("postgres")
    ? { postgres: config.databaseUrl, pool: config.databasePool }
    : { sqlite: sqlitePath(config) };
}

/**
 * The configured store's accounts, for `ocs admin` (which works on the store directly, also while
 * a server runs on it).
 */
export async function openAdmin(
  config: Config,
): Promise<{ accounts: AccountService; audit: AuditLog; close(): Promise<void> }> {
  const log = createLogger({ level: "error" });
  const secrets = new SecretBox(masterKey(config, log));
  const store = await openStore(storeLocation(config));
  const clock = new OffsetClock();
  const audit = new AuditLog(store, clock, log, config.security.auditRetentionDays * 86_400_000);
  return {
    accounts: new AccountService(store, secrets, clock, randomIds, {
      defaultGpuQuota: config.security.defaultGpuQuota,
    }),
    audit,
    close: async () => {
      await audit.close();
      await store.close();
    },
  };
}
