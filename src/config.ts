import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** Every configuration key, its default and its check. README's configuration table lists these. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Absent: SQLite in the data dir. */
  databaseUrl?: string;
  /**
   * PostgreSQL connections one replica keeps at most (OCS_DATABASE_POOL); at least 2, as start-up
   * holds one for the migration lock while it migrates through another.
   */
  databasePool: number;
  driver: "sim" | "docker" | "kubernetes";
  docker: {
    socketPath: string;
    gpuMode: "devices" | "nvidia-runtime" | "none";
    nvidiaSmi: string;
    hostIp: string;
    network: string;
    bindHostLoader: boolean;
  };
  kubernetes: {
    /** The standard KUBECONFIG (absent: ~/.kube/config, else the pod's service account). */
    kubeconfig?: string;
    /** Absent: the kubeconfig context's namespace (in a pod: its own), else "default". */
    namespace?: string;
    /** Absent: the cluster's default storage class. */
    storageClass?: string;
    serviceType: "NodePort" | "LoadBalancer" | "ClusterIP";
    accessHost?: string;
    scheduleTimeoutSeconds: number;
    startTimeoutSeconds: number;
    persistPaths: string[];
    /** Custom images as CSI VolumeSnapshots, or as cloned claims. */
    imageMode: "snapshot" | "clone";
    /** Absent: the cluster's default VolumeSnapshotClass. */
    snapshotClass?: string;
  };
  rootPublicKey?: string;
  rootPrivateKey?: string;
  /** Absent: the built-in catalog. */
  catalogPath?: string;
  simLatencyMs: number;
  recycleRetentionHours: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** How long a worker's claim on a task lasts before another replica may take it over. */
  workerClaimSeconds: number;
  /** Tasks one replica runs at once (OCS_WORKER_CONCURRENCY). */
  workerConcurrency: number;
  /** Live custom images one account may hold. */
  imageQuota: number;
  /** How often the monitoring collector samples every running instance. */
  monitorIntervalSeconds: number;
  /** How long monitoring samples are kept. */
  monitorRetentionHours: number;
  /** Base64 32-byte key sealing private keys and passwords; absent = `<data dir>/master.key`. */
  masterKey?: string;
  /**
   * Refuse unknown parameters (RetCode 230) instead of ignoring them as the real gateway does: an
   * emulator feature for users who want their own automation's typos caught.
   */
  strictParams: boolean;
  /**
   * The event stream: how long events are kept (a resume from further back is told it lost some),
   * and how many streams one account may hold open on one replica.
   */
  events: { retentionMs: number; streamsPerAccount: number };
  /** Security settings (README "Security"): limits, throttling, TLS, audit, quotas. */
  security: SecurityConfig;
}

/** What one request may carry and how long a connection may take; checked before any work. */
export interface RequestLimits {
  /** Body size; refused from Content-Length before reading, or as soon as a chunked body passes it. */
  bodyBytes: number;
  /** Parameters of one request (query string and body together), counted while decoding. */
  params: number;
  /** Nesting depth of a parameter: dotted form keys and JSON values alike. */
  depth: number;
}

export interface SecurityConfig {
  limits: RequestLimits;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  /** PEM files; both or neither. Reloaded on SIGHUP. */
  tlsCert?: string;
  tlsKey?: string;
  /** Where the master key lives when not given inline (absent: `<data dir>/master.key`). */
  masterKeyFile?: string;
  /** Absent: /metrics is open. */
  metricsToken?: string;
  /** Failed authentications per client address: a token bucket of this size… */
  authFailureBurst: number;
  /** …refilled at this many per minute. */
  authFailuresPerMinute: number;
  /** Requests per second per account (0 = unlimited); the root account is not limited. */
  accountRate: number;
  accountBurst: number;
  /** Take the client address from the last X-Forwarded-For entry (behind a trusted proxy). */
  trustProxy: boolean;
  auditRetentionDays: number;
  /** GPUs a new account may hold at once. */
  defaultGpuQuota: number;
}

/** Raised for bad configuration; the message names the key. Stops the server at start. */
export class ConfigError extends Error {}

/** Every key the configuration reads (README's configuration table lists exactly these). */
export const CONFIG_KEYS = [
  "OCS_HOST",
  "OCS_PORT",
  "OCS_DATA_DIR",
  "OCS_DATABASE_URL",
  "OCS_DATABASE_POOL",
  "OCS_DRIVER",
  "OCS_ROOT_PUBLIC_KEY",
  "OCS_ROOT_PRIVATE_KEY",
  "OCS_CATALOG",
  "OCS_SIM_LATENCY_MS",
  "OCS_RECYCLE_RETENTION_HOURS",
  "OCS_LOG_LEVEL",
  "OCS_WORKER_CLAIM_SECONDS",
  "OCS_WORKER_CONCURRENCY",
  "OCS_IMAGE_QUOTA",
  "OCS_MONITOR_INTERVAL_SECONDS",
  "OCS_MONITOR_RETENTION_HOURS",
  "OCS_MASTER_KEY",
  "OCS_DOCKER_SOCKET",
  "OCS_DOCKER_GPU_MODE",
  "OCS_DOCKER_NVIDIA_SMI",
  "OCS_DOCKER_HOST_IP",
  "OCS_DOCKER_NETWORK",
  "OCS_DOCKER_BIND_HOST_LOADER",
  "OCS_STRICT_PARAMS",
  "OCS_EVENT_RETENTION_HOURS",
  "OCS_EVENT_STREAMS_PER_ACCOUNT",
  "OCS_TLS_CERT",
  "OCS_TLS_KEY",
  "OCS_MASTER_KEY_FILE",
  "OCS_METRICS_TOKEN",
  "OCS_MAX_BODY_BYTES",
  "OCS_MAX_PARAMS",
  "OCS_MAX_DEPTH",
  "OCS_HEADERS_TIMEOUT_SECONDS",
  "OCS_REQUEST_TIMEOUT_SECONDS",
  "OCS_MAX_CONNECTIONS",
  "OCS_AUTH_FAILURE_BURST",
  "OCS_AUTH_FAILURES_PER_MINUTE",
  "OCS_ACCOUNT_RATE",
  "OCS_ACCOUNT_BURST",
  "OCS_TRUST_PROXY",
  "OCS_AUDIT_RETENTION_DAYS",
  "OCS_DEFAULT_GPU_QUOTA",
  "OCS_K8S_NAMESPACE",
  "OCS_K8S_STORAGE_CLASS",
  "OCS_K8S_SERVICE_TYPE",
  "OCS_K8S_ACCESS_HOST",
  "OCS_K8S_SCHEDULE_TIMEOUT_SECONDS",
  "OCS_K8S_START_TIMEOUT_SECONDS",
  "OCS_K8S_PERSIST_PATHS",
  "OCS_K8S_IMAGE_MODE",
  "OCS_K8S_SNAPSHOT_CLASS",
] as const;
type Key = (typeof CONFIG_KEYS)[number];

/**
 * Reads configuration from the environment, over an optional JSON config file with the same keys
 * (`OCS_CONFIG` names it; `./ocs.config.json` is read when present). The environment wins.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const fileValues: Partial<Record<Key, string>> = {};
  const explicit = env.OCS_CONFIG;
  const path = explicit ? resolve(cwd, explicit) : join(cwd, "ocs.config.json");
  if (explicit && !existsSync(path)) throw new ConfigError(`OCS_CONFIG: file ${path} does not exist`);
  if (existsSync(path)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (e) {
      throw new ConfigError(`OCS_CONFIG: ${path} is not valid JSON (${(e as Error).message})`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new ConfigError(`OCS_CONFIG: ${path} must hold a JSON object`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (!(CONFIG_KEYS as readonly string[]).includes(k))
        throw new ConfigError(`${k}: unknown key in ${path}`);
      if (typeof v !== "string" && typeof v !== "number")
        throw new ConfigError(`${k}: must be a string or number in ${path}`);
      fileValues[k as Key] = String(v);
    }
  }
  const get = (k: Key): string | undefined => {
    const v = env[k] ?? fileValues[k];
    return v === undefined || v === "" ? undefined : v;
  };
  const int = (k: Key, def: number, min: number, max: number): number => {
    const raw = get(k);
    if (raw === undefined) return def;
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${k}: must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`${k}: must be between ${min} and ${max}, got ${n}`);
    return n;
  };

  const host = get("OCS_HOST") ?? "127.0.0.1";
  if (!/^[\w.:-]+$/.test(host)) throw new ConfigError(`OCS_HOST: "${host}" is not a host name or address`);
  const dataDir = resolve(cwd, get("OCS_DATA_DIR") ?? ".ocs-data");
  const databaseUrl = get("OCS_DATABASE_URL");
  if (
    databaseUrl !== undefined &&
    !/^(postgres|postgresql):\/\//.test(databaseUrl) &&
    !databaseUrl.startsWith("sqlite:")
  ) {
    throw new ConfigError(
      "OCS_DATABASE_URL: must start with postgres:// or sqlite: (absent = SQLite in the data dir)",
    );
  }
  const driver = get("OCS_DRIVER") ?? "sim";
  if (driver !== "sim" && driver !== "docker" && driver !== "kubernetes") {
    throw new ConfigError(`OCS_DRIVER: "${driver}" is not available; choose sim, docker or kubernetes`);
  }
  const gpuMode = get("OCS_DOCKER_GPU_MODE") ?? "devices";
  if (!["devices", "nvidia-runtime", "none"].includes(gpuMode)) {
    throw new ConfigError(`OCS_DOCKER_GPU_MODE: must be devices, nvidia-runtime or none, got "${gpuMode}"`);
  }
  const bool = (k: Key, def: boolean): boolean => {
    const raw = get(k);
    if (raw === undefined) return def;
    if (raw !== "true" && raw !== "false") throw new ConfigError(`${k}: must be true or false, got "${raw}"`);
    return raw === "true";
  };
  const bindHostLoader = bool("OCS_DOCKER_BIND_HOST_LOADER", false);
  const rootPublicKey = get("OCS_ROOT_PUBLIC_KEY");
  const rootPrivateKey = get("OCS_ROOT_PRIVATE_KEY");
  if ((rootPublicKey === undefined) !== (rootPrivateKey === undefined)) {
    throw new ConfigError(
      `${rootPublicKey === undefined ? "OCS_ROOT_PUBLIC_KEY" : "OCS_ROOT_PRIVATE_KEY"}: set both OCS_ROOT_PUBLIC_KEY and OCS_ROOT_PRIVATE_KEY, or neither`,
    );
  }
  for (const [k, v] of [
    ["OCS_ROOT_PUBLIC_KEY", rootPublicKey],
    ["OCS_ROOT_PRIVATE_KEY", rootPrivateKey],
  ] as const) {
    if (v !== undefined && (v.length < 8 || v.length > 128 || /\s/.test(v))) {
      throw new ConfigError(`${k}: must be 8-128 characters without spaces`);
    }
  }
  /** A file path relative to the working directory; `mustExist` for files we only read. */
  function optionalPath(k: Key, mustExist = false): string | undefined {
    const raw = get(k);
    if (raw === undefined) return undefined;
    const p = resolve(cwd, raw);
    if (mustExist && !existsSync(p)) throw new ConfigError(`${k}: file ${p} does not exist`);
    return p;
  }
  const catalogPath = optionalPath("OCS_CATALOG", true);
  const logLevel = get("OCS_LOG_LEVEL") ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    throw new ConfigError(`OCS_LOG_LEVEL: must be debug, info, warn or error, got "${logLevel}"`);
  }
  const masterKey = checkMasterKey(get("OCS_MASTER_KEY"));
  const masterKeyFile = optionalPath("OCS_MASTER_KEY_FILE");
  if (masterKey !== undefined && masterKeyFile !== undefined)
    throw new ConfigError("OCS_MASTER_KEY_FILE: set OCS_MASTER_KEY or OCS_MASTER_KEY_FILE, not both");
  const tlsCert = optionalPath("OCS_TLS_CERT", true);
  const tlsKey = optionalPath("OCS_TLS_KEY", true);
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new ConfigError(
      `${tlsCert === undefined ? "OCS_TLS_CERT" : "OCS_TLS_KEY"}: set both OCS_TLS_CERT and OCS_TLS_KEY, or neither`,
    );
  const metricsToken = get("OCS_METRICS_TOKEN");
  if (metricsToken !== undefined && (metricsToken.length < 16 || /\s/.test(metricsToken)))
    throw new ConfigError("OCS_METRICS_TOKEN: must be at least 16 characters without spaces");
  const headersTimeoutMs = int("OCS_HEADERS_TIMEOUT_SECONDS", 10, 1, 3600) * 1000;
  const requestTimeoutMs = int("OCS_REQUEST_TIMEOUT_SECONDS", 30, 1, 3600) * 1000;
  if (requestTimeoutMs < headersTimeoutMs)
    throw new ConfigError(
      "OCS_REQUEST_TIMEOUT_SECONDS: must not be shorter than OCS_HEADERS_TIMEOUT_SECONDS",
    );
  const security: SecurityConfig = {
    limits: {
      bodyBytes: int("OCS_MAX_BODY_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
      params: int("OCS_MAX_PARAMS", 2000, 10, 100_000),
      depth: int("OCS_MAX_DEPTH", 8, 2, 64),
    },
    headersTimeoutMs,
    requestTimeoutMs,
    maxConnections: int("OCS_MAX_CONNECTIONS", 1024, 1, 1_000_000),
    tlsCert,
    tlsKey,
    masterKeyFile,
    metricsToken,
    authFailureBurst: int("OCS_AUTH_FAILURE_BURST", 20, 1, 1_000_000),
    authFailuresPerMinute: int("OCS_AUTH_FAILURES_PER_MINUTE", 10, 1, 1_000_000),
    accountRate: int("OCS_ACCOUNT_RATE", 50, 0, 1_000_000),
    accountBurst: int("OCS_ACCOUNT_BURST", 100, 1, 1_000_000),
    trustProxy: bool("OCS_TRUST_PROXY", false),
    auditRetentionDays: int("OCS_AUDIT_RETENTION_DAYS", 90, 1, 36_500),
    defaultGpuQuota: int("OCS_DEFAULT_GPU_QUOTA", 8, 0, 1_000_000),
  };
  return {
    host,
    port: int("OCS_PORT", 8080, 0, 65535),
    dataDir,
    databaseUrl,
    databasePool: int("OCS_DATABASE_POOL", 10, 2, 1000),
    driver,
    docker: {
      socketPath: get("OCS_DOCKER_SOCKET") ?? "/var/run/docker.sock",
      gpuMode: gpuMode as Config["docker"]["gpuMode"],
      nvidiaSmi: get("OCS_DOCKER_NVIDIA_SMI") ?? "nvidia-smi",
      hostIp: get("OCS_DOCKER_HOST_IP") ?? "127.0.0.1",
      network: get("OCS_DOCKER_NETWORK") ?? "bridge",
      bindHostLoader,
    },
    kubernetes: kubernetesConfig(get, int, env.KUBECONFIG),
    rootPublicKey,
    rootPrivateKey,
    catalogPath,
    simLatencyMs: int("OCS_SIM_LATENCY_MS", 500, 0, 600_000),
    recycleRetentionHours: int("OCS_RECYCLE_RETENTION_HOURS", 72, 0, 24 * 365),
    logLevel: logLevel as Config["logLevel"],
    workerClaimSeconds: int("OCS_WORKER_CLAIM_SECONDS", 30, 1, 3600),
    workerConcurrency: int("OCS_WORKER_CONCURRENCY", 128, 1, 4096),
    imageQuota: int("OCS_IMAGE_QUOTA", 20, 0, 100_000),
    monitorIntervalSeconds: int("OCS_MONITOR_INTERVAL_SECONDS", 10, 1, 3600),
    monitorRetentionHours: int("OCS_MONITOR_RETENTION_HOURS", 24, 1, 24 * 90),
    masterKey,
    strictParams: bool("OCS_STRICT_PARAMS", false),
    events: {
      retentionMs: int("OCS_EVENT_RETENTION_HOURS", 168, 1, 24 * 365) * 3600_000,
      streamsPerAccount: int("OCS_EVENT_STREAMS_PER_ACCOUNT", 8, 1, 10_000),
    },
    security,
  };
}

/** A DNS-1123 label: what Kubernetes accepts as a namespace or storage class name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function kubernetesConfig(
  get: (k: Key) => string | undefined,
  int: (k: Key, def: number, min: number, max: number) => number,
  kubeconfig: string | undefined,
): Config["kubernetes"] {
  const namespace = get("OCS_K8S_NAMESPACE");
  if (namespace !== undefined && (namespace.length > 63 || !DNS_LABEL.test(namespace)))
    throw new ConfigError(
      `OCS_K8S_NAMESPACE: "${namespace}" is not a namespace name (lowercase letters, digits, -)`,
    );
  const storageClass = get("OCS_K8S_STORAGE_CLASS");
  if (
    storageClass !== undefined &&
    (storageClass.length > 253 || !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(storageClass))
  )
    throw new ConfigError(`OCS_K8S_STORAGE_CLASS: "${storageClass}" is not a storage class name`);
  const serviceType = get("OCS_K8S_SERVICE_TYPE") ?? "NodePort";
  if (!["NodePort", "LoadBalancer", "ClusterIP"].includes(serviceType))
    throw new ConfigError(
      `OCS_K8S_SERVICE_TYPE: must be NodePort, LoadBalancer or ClusterIP, got "${serviceType}"`,
    );
  const accessHost = get("OCS_K8S_ACCESS_HOST");
  if (accessHost !== undefined && !/^[\w.:-]+$/.test(accessHost))
    throw new ConfigError(`OCS_K8S_ACCESS_HOST: "${accessHost}" is not a host name or address`);
  const persistPaths = (get("OCS_K8S_PERSIST_PATHS") ?? "/root,/home")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of persistPaths) {
    if (!/^\/[\w.@+/-]*$/.test(p) || p === "/" || p.split("/").includes(".."))
      throw new ConfigError(
        `OCS_K8S_PERSIST_PATHS: "${p}" must be an absolute path below / (letters, digits, _ . @ + - /)`,
      );
  }
  const subdirs = persistPaths.map((p) => p.replace(/^\/+|\/+$/g, "").replace(/\//g, "_"));
  if (new Set(subdirs).size !== subdirs.length)
    throw new ConfigError("OCS_K8S_PERSIST_PATHS: lists one path twice");
  const imageMode = get("OCS_K8S_IMAGE_MODE") ?? "snapshot";
  if (imageMode !== "snapshot" && imageMode !== "clone")
    throw new ConfigError(`OCS_K8S_IMAGE_MODE: must be snapshot or clone, got "${imageMode}"`);
  const snapshotClass = get("OCS_K8S_SNAPSHOT_CLASS");
  if (snapshotClass !== undefined && !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(snapshotClass))
    throw new ConfigError(`OCS_K8S_SNAPSHOT_CLASS: "${snapshotClass}" is not a VolumeSnapshotClass name`);
  return {
    kubeconfig: kubeconfig || undefined,
    namespace,
    storageClass,
    serviceType: serviceType as Config["kubernetes"]["serviceType"],
    accessHost,
    scheduleTimeoutSeconds: int("OCS_K8S_SCHEDULE_TIMEOUT_SECONDS", 60, 1, 3600),
    startTimeoutSeconds: int("OCS_K8S_START_TIMEOUT_SECONDS", 240, 1, 3600),
    persistPaths,
    imageMode,
    snapshotClass,
  };
}

function checkMasterKey(v: string | undefined): string | undefined {
  if (v !== undefined && Buffer.from(v, "base64").length !== 32) {
    throw new ConfigError("OCS_MASTER_KEY: must be 32 bytes, base64-encoded (openssl rand -base64 32)");
  }
  return v;
}

/** The SQLite file for a config (OCS_DATABASE_URL=sqlite:PATH, or the data dir's default). */
export function sqlitePath(config: Config): string {
  if (config.databaseUrl?.startsWith("sqlite:")) {
    const p = config.databaseUrl.slice("sqlite:".length);
    return p === ":memory:" ? p : resolve(config.dataDir, p);
  }
  return join(config.dataDir, "ocs.sqlite");
}
