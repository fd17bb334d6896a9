import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_CATALOG } from "../src/core/catalog/catalog.js";
import type { Catalog } from "../src/domain/catalog.js";
import { loadKubeConfig } from "../src/drivers/kubernetes/client.js";
import type { KubernetesOptions } from "../src/drivers/kubernetes/kubernetes-driver.js";
import { KubernetesDriver } from "../src/drivers/kubernetes/kubernetes-driver.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A test cluster as scripts/k8s.mjs hands it out. */
export interface TestCluster {
  runDir: string;
  kubeconfig: string;
  apiUrl: string;
  kubectl: string;
  addNode(
    name: string,
    opts?: { gpus?: number; product?: string; labels?: Record<string, string> },
  ): Promise<void>;
  removeNode(name: string): Promise<void>;
  setNodeReady(name: string, ready: boolean): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `OCS_TEST_K8S` is set by scripts/test.mjs once the control plane's binaries are built; without
 * it the Kubernetes suites are skipped (never under CI=true, where the runner fails instead).
 */
export const k8sSkip = process.env.OCS_TEST_K8S
  ? {}
  : process.env.CI === "true"
    ? (() => {
        throw new Error("the Kubernetes control plane is missing in CI");
      })()
    : { skip: "Kubernetes control plane not built (see npm test output)" };

/**
 * Starts a cluster of the test's own with the project's scripts (etcd, API server, controller
 * manager, scheduler and kwok's simulated GPU nodes, ~5 s with the binaries cached); it stops by
 * itself if the test process dies.
 */
export async function startTestCluster(opts: Record<string, unknown> = {}): Promise<TestCluster> {
  const mod = (await import(pathToFileURL(join(ROOT, "scripts", "k8s.mjs")).href)) as {
    startKubernetes(o: Record<string, unknown>): Promise<TestCluster>;
  };
  return mod.startKubernetes(opts);
}

/** kubectl against a test cluster; stderr goes into the error of a failing call. */
export function kubectl(c: TestCluster, ...args: string[]): string {
  return execFileSync(c.kubectl, ["--kubeconfig", c.kubeconfig, ...args], {
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  }).trim();
}

/** A pod of another workload (no store label) bound to a node, asking for GPUs there. */
export function otherWorkload(c: TestCluster, name: string, node: string, gpus: number): void {
  kubectl(
    c,
    "run",
    name,
    "--image=x",
    "--restart=Never",
    "--overrides",
    JSON.stringify({
      spec: {
        nodeName: node,
        containers: [{ name: "x", image: "x", resources: { limits: { "nvidia.com/gpu": String(gpus) } } }],
      },
    }),
  );
}

/** kubectl apply of objects given as data. */
export function kubectlApply(c: TestCluster, ns: string, ...objects: object[]): string {
  return execFileSync(c.kubectl, ["--kubeconfig", c.kubeconfig, "-n", ns, "apply", "-f", "-"], {
    encoding: "utf8",
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    stdio: ["pipe", "pipe", "pipe"],
  }).trim();
}

/** kubectl … -o json, parsed. */
export function kubectlJson<T = Record<string, unknown>>(c: TestCluster, ...args: string[]): T {
  return JSON.parse(kubectl(c, ...args, "-o", "json")) as T;
}

/** The driver's options for a test cluster (short timeouts: nothing is pulled on kwok's nodes). */
export function driverOptions(c: TestCluster, more: Partial<KubernetesOptions> = {}): KubernetesOptions {
  return {
    kubeConfig: loadKubeConfig(c.kubeconfig),
    namespace: "default",
    storeId: `test-${process.pid}`,
    serviceType: "NodePort",
    scheduleTimeoutMs: 3000,
    startTimeoutMs: 20_000,
    persistPaths: ["/root", "/home"],
    imageMode: "snapshot",
    ...more,
  };
}

export const newDriver = (c: TestCluster, more: Partial<KubernetesOptions> = {}) =>
  new KubernetesDriver(driverOptions(c, more));

/**
 * A catalog for the cluster's H100 nodes: the type `h100` (1, 2, 4 or 8 GPUs with 4 CPU and
 * 16 GB each, so 16 one-GPU instances fit the two 64-CPU nodes) known by its GPU product, plus
 * the built-in types and images.
 */
export function kubernetesCatalog(): string {
  const base = DEFAULT_CATALOG.gpuTypes.find((g) => g.name === "4090") as Catalog["gpuTypes"][number];
  const catalog: Catalog = {
    ...DEFAULT_CATALOG,
    hosts: [],
    gpuTypes: [
      ...DEFAULT_CATALOG.gpuTypes,
      {
        ...base,
        name: "h100",
        description: "NVIDIA H100 80GB HBM3",
        graphicsMemoryGB: 80,
        spot: false,
        products: ["NVIDIA-H100-80GB-HBM3"],
        sizes: [1, 2, 4, 8].map((g) => ({ gpu: g, cpu: 4 * g, memory: [16384 * g] })),
        withoutGpu: { cpu: 2, memory: 8192 },
      },
    ],
    prices: {
      ...DEFAULT_CATALOG.prices,
      gpu: { ...DEFAULT_CATALOG.prices.gpu, h100: { Dynamic: 9, Postpay: 9, Day: 200, Month: 5000 } },
      nightDiscount: undefined,
    },
  };
  const path = join(mkdtempSync(join(tmpdir(), "ocs-k8s-cat-")), "catalog.json");
  writeFileSync(path, JSON.stringify(catalog));
  return path;
}
