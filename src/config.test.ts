import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "./config.js";

const dir = mkdtempSync(join(tmpdir(), "ocs-config-"));

describe("configuration", () => {
  it("has embedded defaults", () => {
    const c = loadConfig({}, dir);
    assert.equal(c.host, "127.0.0.1");
    assert.equal(c.port, 8080);
    assert.equal(c.dataDir, join(dir, ".ocs-data"));
    assert.equal(c.driver, "sim");
    assert.equal(c.databaseUrl, undefined);
    assert.deepEqual(c.security.limits, { bodyBytes: 1048576, params: 2000, depth: 8 });
    assert.equal(c.security.headersTimeoutMs, 10_000);
    assert.equal(c.security.requestTimeoutMs, 30_000);
    assert.equal(c.security.maxConnections, 1024);
    assert.equal(c.security.tlsCert, undefined);
    assert.equal(c.security.metricsToken, undefined);
    assert.equal(c.security.accountRate, 50);
    assert.equal(c.security.defaultGpuQuota, 8);
    assert.equal(c.workerConcurrency, 128);
    assert.equal(c.databasePool, 10);
  });

  it("stops at bad values with a message naming the key", () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ OCS_PORT: "eighty" }, /^OCS_PORT: must be a whole number/],
      [{ OCS_PORT: "70000" }, /^OCS_PORT: must be between/],
      [{ OCS_DRIVER: "xen" }, /^OCS_DRIVER:/],
      [{ OCS_ROOT_PUBLIC_KEY: "only-public-key" }, /^OCS_ROOT_PRIVATE_KEY: set both/],
      [{ OCS_CATALOG: "/nope.json" }, /^OCS_CATALOG: file/],
      [{ OCS_DATABASE_URL: "mysql://x" }, /^OCS_DATABASE_URL:/],
      [{ OCS_LOG_LEVEL: "loud" }, /^OCS_LOG_LEVEL:/],
      [{ OCS_TLS_CERT: "/nope.pem" }, /^OCS_TLS_CERT: file/],
      [
        { OCS_MASTER_KEY: Buffer.alloc(32).toString("base64"), OCS_MASTER_KEY_FILE: "k" },
        /^OCS_MASTER_KEY_FILE: set/,
      ],
      [{ OCS_METRICS_TOKEN: "short" }, /^OCS_METRICS_TOKEN:/],
      [{ OCS_MAX_PARAMS: "5" }, /^OCS_MAX_PARAMS: must be between/],
      [{ OCS_WORKER_CONCURRENCY: "0" }, /^OCS_WORKER_CONCURRENCY: must be between 1/],
      [{ OCS_DATABASE_POOL: "1" }, /^OCS_DATABASE_POOL: must be between 2/],
      [
        { OCS_HEADERS_TIMEOUT_SECONDS: "20", OCS_REQUEST_TIMEOUT_SECONDS: "10" },
        /^OCS_REQUEST_TIMEOUT_SECONDS:/,
      ],
      [{ OCS_TRUST_PROXY: "yes" }, /^OCS_TRUST_PROXY: must be true or false/],
      [{ OCS_K8S_NAMESPACE: "My_Namespace" }, /^OCS_K8S_NAMESPACE: "My_Namespace" is not a namespace name/],
      [{ OCS_K8S_STORAGE_CLASS: "Fast SSD" }, /^OCS_K8S_STORAGE_CLASS:/],
      [
        { OCS_K8S_SERVICE_TYPE: "Ingress" },
        /^OCS_K8S_SERVICE_TYPE: must be NodePort, LoadBalancer or ClusterIP/,
      ],
      [{ OCS_K8S_ACCESS_HOST: "a host" }, /^OCS_K8S_ACCESS_HOST:/],
      [{ OCS_K8S_SCHEDULE_TIMEOUT_SECONDS: "0" }, /^OCS_K8S_SCHEDULE_TIMEOUT_SECONDS: must be between 1/],
      [{ OCS_K8S_START_TIMEOUT_SECONDS: "soon" }, /^OCS_K8S_START_TIMEOUT_SECONDS:/],
      [{ OCS_K8S_PERSIST_PATHS: "root" }, /^OCS_K8S_PERSIST_PATHS: "root" must be an absolute path/],
      [{ OCS_K8S_PERSIST_PATHS: "/" }, /^OCS_K8S_PERSIST_PATHS: "\/" must be/],
      [{ OCS_K8S_PERSIST_PATHS: "/root/../etc" }, /^OCS_K8S_PERSIST_PATHS:/],
      [{ OCS_K8S_PERSIST_PATHS: "/usr/local,/usr_local" }, /^OCS_K8S_PERSIST_PATHS: lists one path twice/],
      [{ OCS_K8S_IMAGE_MODE: "copy" }, /^OCS_K8S_IMAGE_MODE: must be snapshot or clone/],
      [{ OCS_K8S_SNAPSHOT_CLASS: "Fast_Snaps" }, /^OCS_K8S_SNAPSHOT_CLASS:/],
    ];
    for (const [env, re] of bad)
      assert.throws(
        () => loadConfig(env, dir),
        (e: unknown) => e instanceof ConfigError && re.test(e.message),
      );
  });

  it("kubernetes driver: KUBECONFIG and the OCS_K8S_* keys, with their defaults", () => {
    const c = loadConfig({ OCS_DRIVER: "kubernetes", KUBECONFIG: "/etc/k/config" }, dir);
    assert.equal(c.driver, "kubernetes");
    assert.deepEqual(c.kubernetes, {
      kubeconfig: "/etc/k/config",
      namespace: undefined,
      storageClass: undefined,
      serviceType: "NodePort",
      accessHost: undefined,
      scheduleTimeoutSeconds: 60,
      startTimeoutSeconds: 240,
      persistPaths: ["/root", "/home"],
      imageMode: "snapshot",
      snapshotClass: undefined,
    });
    const k = loadConfig(
      {
        OCS_K8S_NAMESPACE: "gpu-instances",
        OCS_K8S_STORAGE_CLASS: "fast.ssd",
        OCS_K8S_SERVICE_TYPE: "LoadBalancer",
        OCS_K8S_PERSIST_PATHS: "/root, /opt/conda ,",
      },
      dir,
    ).kubernetes;
    assert.deepEqual(
      [k.namespace, k.storageClass, k.serviceType, k.persistPaths],
      ["gpu-instances", "fast.ssd", "LoadBalancer", ["/root", "/opt/conda"]],
    );
  });

  it("reads the same keys from a config file; the environment wins", () => {
    const d = mkdtempSync(join(tmpdir(), "ocs-config-"));
    writeFileSync(join(d, "ocs.config.json"), JSON.stringify({ OCS_PORT: 9001, OCS_HOST: "0.0.0.0" }));
    const c = loadConfig({ OCS_HOST: "127.0.0.2" }, d);
    assert.equal(c.port, 9001);
    assert.equal(c.host, "127.0.0.2");
    writeFileSync(join(d, "ocs.config.json"), JSON.stringify({ OCS_PROT: 1 }));
    assert.throws(() => loadConfig({}, d), /OCS_PROT: unknown key/);
  });
});
