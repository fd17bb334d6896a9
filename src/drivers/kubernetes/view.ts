import type {
  CoreV1Api,
  KubeConfig,
  V1Container,
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1Pod,
} from "@kubernetes/client-node";
import { ListWatch, Watch } from "@kubernetes/client-node";
import type { FleetNode } from "../driver.js";
import { GPU_RESOURCE, LABELS, NODE_LABELS, TOLERATED_TAINTS } from "./objects.js";
import { parseQuantity } from "./quantity.js";

/** What a pod asks of its node, as the scheduler counts it. */
interface Demand {
  gpus: number;
  cpu: number;
  memory: number;
}

const sum = (cs: V1Container[] | undefined, key: string) =>
  (cs ?? []).reduce(
    (n, c) => n + parseQuantity(c.resources?.requests?.[key] ?? c.resources?.limits?.[key]),
    0,
  );
const most = (cs: V1Container[] | undefined, key: string) =>
  Math.max(
    0,
    ...(cs ?? []).map((c) => parseQuantity(c.resources?.requests?.[key] ?? c.resources?.limits?.[key])),
  );

/**
 * A pod's effective request: the larger of its containers' sum and its largest init container,
 * plus its overhead (the scheduler's rule). Limits stand in for missing requests, as the API
 * server's defaulting does.
 */
export function podDemand(pod: V1Pod): Demand {
  const of = (key: string) =>
    Math.max(sum(pod.spec?.containers, key), most(pod.spec?.initContainers, key)) +
    parseQuantity(pod.spec?.overhead?.[key]);
  return { gpus: of(GPU_RESOURCE), cpu: of("cpu"), memory: of("memory") };
}

/** A pod that holds its node's resources: bound, and neither finished nor failed. */
export const holdsResources = (p: V1Pod) =>
  !!p.spec?.nodeName && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

/** Why a node takes nothing new, or undefined when it does. */
export function nodeTrouble(n: V1Node): string | undefined {
  const ready = n.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.status !== "True")
    return `node ${n.metadata?.name} is NotReady${ready?.message ? `: ${ready.message}` : ""}`;
  if (n.spec?.unschedulable) return `node ${n.metadata?.name} is cordoned`;
  const taint = n.spec?.taints?.find(
    (t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !TOLERATED_TAINTS.includes(t.key),
  );
  if (taint) return `node ${n.metadata?.name} is tainted ${taint.key}:${taint.effect}`;
  return undefined;
}

/**
 * The fleet as this install sees it: every node with `nvidia.com/gpu` allocatable, with what the
 * pods of other workloads (anything not labelled with this store) request taken off, so that
 * capacity answers and placement count them.
 */
export function fleetOf(nodes: readonly V1Node[], pods: readonly V1Pod[], storeId: string): FleetNode[] {
  const used = new Map<string, Demand>();
  for (const p of pods) {
    if (!holdsResources(p) || p.metadata?.labels?.[LABELS.store] === storeId) continue;
    const d = podDemand(p);
    const u = used.get(p.spec?.nodeName as string) ?? { gpus: 0, cpu: 0, memory: 0 };
    used.set(p.spec?.nodeName as string, {
      gpus: u.gpus + d.gpus,
      cpu: u.cpu + d.cpu,
      memory: u.memory + d.memory,
    });
  }
  const out: FleetNode[] = [];
  for (const n of nodes) {
    const name = n.metadata?.name;
    const alloc = n.status?.allocatable ?? {};
    const gpus = parseQuantity(alloc[GPU_RESOURCE]);
    if (!name || !(gpus > 0)) continue;
    const u = used.get(name) ?? { gpus: 0, cpu: 0, memory: 0 };
    const labels = n.metadata?.labels ?? {};
    const trouble = nodeTrouble(n);
    out.push({
      name,
      gpuType: labels[NODE_LABELS.gpuType] || undefined,
      gpuProduct: labels[NODE_LABELS.product] || undefined,
      zone: labels[NODE_LABELS.zone] || undefined,
      gpus: Math.max(0, Math.floor(gpus - u.gpus)),
      cpu: Math.max(0, Math.floor(parseQuantity(alloc.cpu) - u.cpu)),
      memoryMB: Math.max(0, Math.floor((parseQuantity(alloc.memory) - u.memory) / 2 ** 20)),
      schedulable: trouble === undefined,
      reason: trouble,
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** One requirement of a node selector term against a value (a label's, or the node's name). */
function meets(req: V1NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
      return value !== undefined && Number(value) > Number(values[0]);
    case "Lt":
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/**
 * Whether a node satisfies a node affinity (a persistent volume's, say): any one term, each of
 * whose label and field requirements holds (the scheduler's rule).
 */
export function nodeMatches(n: V1Node, terms: V1NodeSelectorTerm[]): boolean {
  const labels = n.metadata?.labels ?? {};
  return terms.some(
    (t) =>
      (t.matchExpressions ?? []).every((r) => meets(r, labels[r.key])) &&
      (t.matchFields ?? []).every((r) => meets(r, r.key === "metadata.name" ? n.metadata?.name : undefined)),
  );
}

/** Why one of our pods no longer runs its instance, or undefined while it does (or may still). */
export function podGone(p: V1Pod): string | undefined {
  const disruption = p.status?.conditions?.find((c) => c.type === "DisruptionTarget" && c.status === "True");
  if (disruption)
    return `pod disrupted (${disruption.reason}${disruption.message ? `: ${disruption.message}` : ""})`;
  if (p.metadata?.deletionTimestamp) return "pod deleted outside opencompshare";
  const phase = p.status?.phase;
  if (phase === "Failed" || phase === "Succeeded") {
    const term = p.status?.containerStatuses?.[0]?.state?.terminated;
    const why = p.status?.reason
      ? `${p.status.reason}${p.status.message ? `: ${p.status.message}` : ""}`
      : term
        ? `${term.reason ?? "exited"} (code ${term.exitCode})`
        : phase;
    return `instance process ended: ${why}`;
  }
  return undefined;
}

export interface ViewListener {
  /**
   * One of our instances stopped running; `lost` is set when its node went away or NotReady, `uid`
   * is the pod's.
   */
  gone(id: string, why: string, lost?: { pod: string; namespace: string }, uid?: string): void;
  /** One of our pods runs (its instance's newest life). */
  running?(id: string, uid: string): void;
  /** The fleet may have changed. */
  fleetChanged(): void;
  error(e: Error): void;
}

/**
 * Informers on the cluster's nodes and pods (all namespaces: other workloads' pods count against
 * a node's room). It tells the driver when one of this store's instances stops running (its pod
 * ended, was deleted or evicted, or its node was lost) and when the fleet may have changed.
 * A failed list or watch is retried with a growing pause; the informers relist when the watch's
 * version is too old, so nothing is missed for long.
 */
export class ClusterView {
  readonly nodes: ListWatch<V1Node>;
  readonly pods: ListWatch<V1Pod>;
  private stopped = false;
  private readonly retries = new Map<string, { timer?: NodeJS.Timeout; pause: number }>();

  constructor(
    kc: KubeConfig,
    core: CoreV1Api,
    private readonly storeId: string,
    private readonly listener: ViewListener,
  ) {
    const watch = new Watch(kc);
    this.nodes = new ListWatch<V1Node>("/api/v1/nodes", watch, () => core.listNode(), false);
    this.pods = new ListWatch<V1Pod>("/api/v1/pods", watch, () => core.listPodForAllNamespaces(), false);
    const nodeChanged = (n: V1Node) => {
      listener.fleetChanged();
      const trouble = nodeTrouble(n);
      if (trouble?.includes("NotReady")) this.lose(n.metadata?.name as string, trouble);
    };
    this.nodes.on("add", nodeChanged);
    this.nodes.on("update", nodeChanged);
    this.nodes.on("delete", (n) => {
      listener.fleetChanged();
      this.lose(n.metadata?.name as string, `node ${n.metadata?.name} was removed from the cluster`);
    });
    const podChanged = (p: V1Pod) => {
      if (!this.ours(p)) {
        if (p.spec?.nodeName) listener.fleetChanged();
        return;
      }
      const id = p.metadata?.labels?.[LABELS.instance] as string;
      // The node first: a pod deleted because its node was lost is told with the node's story.
      const why = this.onLostNode(p) ?? podGone(p);
      if (why) listener.gone(id, why, this.lostPod(p, why), p.metadata?.uid);
      else if (p.status?.phase === "Running" && p.metadata?.uid) listener.running?.(id, p.metadata.uid);
    };
    this.pods.on("add", podChanged);
    this.pods.on("update", podChanged);
    this.pods.on("delete", (p) => {
      if (!this.ours(p)) {
        if (p.spec?.nodeName) listener.fleetChanged();
        return;
      }
      listener.gone(
        p.metadata?.labels?.[LABELS.instance] as string,
        this.onLostNode(p) ?? podGone(p) ?? "pod deleted outside opencompshare",
        undefined,
        p.metadata?.uid,
      );
    });
    for (const [name, inf] of [
      ["nodes", this.nodes],
      ["pods", this.pods],
    ] as const) {
      inf.on("error", (e: unknown) => {
        // stop() aborts the watch, which the informer reports as an error: not one.
        if (this.stopped) return;
        listener.error(new Error(`watching ${name} failed: ${(e as Error)?.message ?? String(e)}`));
        this.retry(name, () => inf.start());
      });
      inf.on("connect", () => {
        const r = this.retries.get(name);
        if (r) r.pause = 1000;
      });
    }
  }

  /** Lists nodes, then pods (so a pod's node is known when its pod is seen), and watches both. */
  async start(): Promise<void> {
    await this.nodes.start();
    await this.pods.start();
    this.listener.fleetChanged();
  }

  /** Both caches hold a complete list (the fleet computed from them is whole). */
  get synced(): boolean {
    return this.nodes.latestResourceVersion() !== "" && this.pods.latestResourceVersion() !== "";
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.retries.values()) clearTimeout(r.timer);
    await this.nodes.stop();
    await this.pods.stop();
  }

  private ours(p: V1Pod): boolean {
    return p.metadata?.labels?.[LABELS.store] === this.storeId && !!p.metadata?.labels?.[LABELS.instance];
  }

  /** Why a bound pod of ours is on a lost node (gone from the cluster, or NotReady). */
  private onLostNode(p: V1Pod): string | undefined {
    const node = p.spec?.nodeName;
    if (!node || !holdsResources(p)) return undefined;
    const n = this.nodes.get(node);
    if (!n) return `node ${node} was removed from the cluster`;
    const trouble = nodeTrouble(n);
    return trouble?.includes("NotReady") ? trouble : undefined;
  }

  private lostPod(p: V1Pod, why: string) {
    return why === this.onLostNode(p)
      ? { pod: p.metadata?.name as string, namespace: p.metadata?.namespace as string }
      : undefined;
  }

  /** Every running pod of ours on a lost node is gone with it. */
  private lose(node: string, why: string): void {
    for (const p of this.pods.list()) {
      if (!this.ours(p) || p.spec?.nodeName !== node || !holdsResources(p)) continue;
      this.listener.gone(p.metadata?.labels?.[LABELS.instance] as string, why, {
        pod: p.metadata?.name as string,
        namespace: p.metadata?.namespace as string,
      });
    }
  }

  private retry(name: string, again: () => Promise<void>): void {
    const r = this.retries.get(name) ?? { pause: 1000 };
    this.retries.set(name, r);
    clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      if (this.stopped) return;
      again().catch(() => {});
    }, r.pause);
    r.pause = Math.min(r.pause * 2, 30_000);
  }
}
