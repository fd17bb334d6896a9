// A real Kubernetes control plane for the test run: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler and kwok (simulated GPU nodes; pods scheduled to them reach Running), all built
// from source with `go` once and cached outside the repository, then started on free 127.0.0.1
// ports in a temporary directory. The work is done by the shell scripts in scripts/k8s/ (usable on
// their own, see scripts/k8s/README.md); this module runs them for Node.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const DIR = join(import.meta.dirname, "k8s");
const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

/** Where build.sh keeps the binaries (same default as scripts/k8s/lib.sh). */
export const K8S_CACHE =
  process.env.OCS_K8S_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "opencompshare", "k8s");

function aptInstall(pkgs) {
  if (process.getuid?.() !== 0) throw new Error(`${pkgs.join(", ")} missing and installing needs root`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", ...pkgs], { stdio: "inherit", env });
}

function ensureTools() {
  const missing = [];
  if (!has("openssl")) missing.push("openssl"); // the cluster's CA and certificates
  if (!has("curl")) missing.push("curl"); // health checks while starting
  if (!has("ss")) missing.push("iproute2"); // free ports
  if (missing.length) {
    console.log(`installing ${missing.join(", ")} from Debian's packages…`);
    aptInstall(missing);
  }
}

/**
 * Runs one of the scripts; resolves to its stdout. Its stderr (progress, logs) is passed through
 * when `echo` is set and kept for the error message either way.
 */
function script(name, args, { env = {}, echo = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(join(DIR, name), args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
      if (echo) process.stderr.write(d);
    });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) return resolve(out);
      const e = new Error(
        `scripts/k8s/${name} ${args.join(" ")} failed (exit ${code ?? signal}):\n${err.trim().split("\n").slice(-25).join("\n")}`,
      );
      e.exitCode = code;
      reject(e);
    });
  });
}

/**
 * Builds the binaries into the cache when they are missing or of another version (~8 min and
 * ~3 GB of memory on 2 cores the first time; nothing to do afterwards). Needs `go` only then.
 * Throws an Error with code "ENOGO" when go is needed but not installed.
 * @returns {Promise<string>} the directory of the binaries
 */
export async function ensureKubernetesBuilt() {
  try {
    return (await script("build.sh", [], { echo: true })).trim();
  } catch (e) {
    if (e.exitCode === 3) {
      const err = new Error(
        "go is not installed: it is needed once to build the test Kubernetes control plane from source " +
          "(Go >= 1.26, or an older go with GOTOOLCHAIN=auto; https://go.dev/dl), after which the binaries " +
          `are cached in ${K8S_CACHE}`,
      );
      err.code = "ENOGO";
      throw err;
    }
    throw e;
  }
}

function parseEnv(text) {
  const env = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

function nodeArgs({ gpus, product, labels, cpu, memory } = {}) {
  const args = [];
  if (gpus !== undefined) args.push("--gpus", String(gpus));
  if (product !== undefined) args.push("--product", product);
  if (cpu !== undefined) args.push("--cpu", String(cpu));
  if (memory !== undefined) args.push("--memory", String(memory));
  for (const [k, v] of Object.entries(labels ?? {})) args.push("--label", `${k}=${v}`);
  return args;
}

/**
 * A handle on a running cluster, from its run dir (what startKubernetes returns, also usable by a
 * test process that was given OCS_K8S_RUN_DIR by the runner that started the cluster).
 */
export function attachKubernetes(runDir = process.env.OCS_K8S_RUN_DIR) {
  if (!runDir || !existsSync(join(runDir, "env"))) throw new Error(`no running test cluster in ${runDir}`);
  const env = parseEnv(readFileSync(join(runDir, "env"), "utf8"));
  const node = (args) => script("node.sh", ["--run-dir", runDir, ...args]);
  let stopped;
  return {
    runDir,
    kubeconfig: env.KUBECONFIG,
    apiUrl: env.OCS_K8S_API_URL,
    /** a static bearer token of a system:masters user, and the CA that signed the server's cert */
    token: env.OCS_K8S_TOKEN,
    caFile: env.OCS_K8S_CA,
    /** the kubectl built with the cluster (Debian's is far too old) */
    kubectl: env.OCS_K8S_KUBECTL,
    /** the KEY=VALUE lines start.sh printed, KUBECONFIG included */
    env,
    /**
     * Adds a simulated GPU node and waits until it is Ready.
     * @param {string} name
     * @param {{gpus?: number, product?: string, labels?: Record<string,string>, cpu?: number, memory?: string}} [opts]
     *   defaults: the cluster's (8 GPUs, NVIDIA-H100-80GB-HBM3, the start's node labels)
     */
    addNode: (name, opts) => node(["add", name, ...nodeArgs(opts)]).then(() => undefined),
    /** Deletes the Node; its pods are force-deleted by the pod garbage collector ~40-60 s later. */
    removeNode: (name) => node(["remove", name]).then(() => undefined),
    /** Makes a node report Ready=False (or Ready again); resolves once the condition shows it. */
    setNodeReady: (name, ready) => node([ready ? "ready" : "not-ready", name]).then(() => undefined),
    /** Stops every process of the cluster and removes its run dir; safe to call twice. */
    stop() {
      stopped ??= script("stop.sh", [runDir]).then(() => undefined);
      return stopped;
    },
  };
}

/**
 * Starts a cluster (building the binaries first when needed, see ensureKubernetesBuilt). With the
 * binaries cached it is ready in ~5 s: the API server answers, the controller-manager and the
 * scheduler run, and the nodes are Ready with their nvidia.com/gpu capacity.
 * The cluster stops by itself if this process dies without calling stop().
 * @param {{
 *   nodes?: number | Array<{name: string, gpus?: number, product?: string, labels?: Record<string,string>}>,
 *   gpusPerNode?: number, gpuProduct?: string, nodeLabels?: Record<string,string>,
 *   components?: string[], snapshots?: boolean, tmpDir?: string, env?: Record<string,string>,
 * }} [opts] nodes: how many uniform nodes (gpu-node-0, -1, …) or each one's spec [2];
 *   gpusPerNode [8]; gpuProduct: the nvidia.com/gpu.product label [NVIDIA-H100-80GB-HBM3];
 *   nodeLabels: extra labels on every node; snapshots: the VolumeSnapshot API, kwok making
 *   snapshots ready [false]; components besides etcd and the API server
 *   [kube-controller-manager, kube-scheduler, kwok]; env: more OCS_K8S_* knobs for start.sh
 */
export async function startKubernetes(opts = {}) {
  ensureTools();
  await ensureKubernetesBuilt();
  const env = { OCS_K8S_OWNER_PID: String(process.pid), ...opts.env };
  const list = Array.isArray(opts.nodes) ? opts.nodes : undefined;
  env.OCS_K8S_NODES = String(list ? 0 : (opts.nodes ?? 2));
  if (opts.gpusPerNode !== undefined) env.OCS_K8S_GPUS_PER_NODE = String(opts.gpusPerNode);
  if (opts.gpuProduct !== undefined) env.OCS_K8S_GPU_PRODUCT = opts.gpuProduct;
  if (opts.nodeLabels)
    env.OCS_K8S_NODE_LABELS = Object.entries(opts.nodeLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  if (opts.components) env.OCS_K8S_COMPONENTS = opts.components.join(" ");
  if (opts.snapshots) env.OCS_K8S_SNAPSHOTS = "1";
  if (opts.tmpDir) env.OCS_K8S_TMPDIR = opts.tmpDir;
  const out = await script("start.sh", [], { env });
  const runDir = parseEnv(out).OCS_K8S_RUN_DIR;
  const cluster = attachKubernetes(runDir);
  try {
    for (const n of list ?? []) {
      // node.sh reads the start's defaults from the environment
      await script("node.sh", ["--run-dir", runDir, "add", n.name, ...nodeArgs({ ...n })], { env });
    }
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
