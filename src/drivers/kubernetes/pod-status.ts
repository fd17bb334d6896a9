import type { V1Node, V1Pod, V1Service, V1ServicePort } from "@kubernetes/client-node";
import type { Access } from "../driver.js";
import type { Verdict } from "./client.js";
import { GPU_RESOURCE } from "./objects.js";
import { podGone } from "./view.js";

/** Container states that do not get better by waiting. */
const HOPELESS = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "CrashLoopBackOff",
]);

/**
 * Whether a starting pod runs, cannot, or may still: one the scheduler has not placed within
 * `scheduleTimeoutMs` fails with the scheduler's reason; a container that cannot start (no such
 * image, bad config, crash loop) fails at once with the kubelet's; after the whole timeout it
 * fails with what its containers wait for.
 */
export function startVerdict(
  pod: V1Pod | undefined,
  elapsedMs: number,
  timedOut: boolean,
  t: { scheduleTimeoutMs: number; startTimeoutMs: number },
): Verdict<V1Pod> {
  if (!pod) return { fail: "the pod was deleted while the instance was starting" };
  const gone = podGone(pod);
  if (gone) return { fail: `the pod stopped while the instance was starting: ${gone}` };
  if (pod.status?.phase === "Running") return { done: pod };
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status !== "True") {
    if (elapsedMs < t.scheduleTimeoutMs && !timedOut) return undefined;
    const why = scheduled?.message || scheduled?.reason || "the scheduler has not placed the pod";
    return { fail: `not scheduled within ${Math.round(t.scheduleTimeoutMs / 1000)} s: ${why}` };
  }
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    const w = s.state?.waiting;
    if (w?.reason && HOPELESS.has(w.reason))
      return { fail: `container ${s.name}: ${w.reason}: ${w.message ?? ""}`.trim() };
    const term = s.state?.terminated;
    if (term && term.exitCode !== 0)
      return { fail: `container ${s.name} exited with code ${term.exitCode} (${term.reason ?? ""})` };
  }
  if (!timedOut) return undefined;
  const waiting = statuses.map((s) => s.state?.waiting?.reason).filter(Boolean);
  const total = Math.round((t.scheduleTimeoutMs + t.startTimeoutMs) / 1000);
  return { fail: `not running within ${total} s${waiting.length ? ` (${waiting.join(", ")})` : ""}` };
}

/** Whether a pod already is the one `want` describes (node, image, GPUs, CPU, memory, volumes). */
export function sameShape(pod: V1Pod, want: V1Pod): boolean {
  const a = pod.spec?.containers[0];
  const b = want.spec?.containers[0];
  const affinity = (p: V1Pod) => JSON.stringify(p.spec?.affinity);
  const volumes = (p: V1Pod) =>
    JSON.stringify((p.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName ?? v.name));
  const limit = (c: typeof a, key: string) => String(c?.resources?.limits?.[key] ?? "0");
  return (
    affinity(pod) === affinity(want) &&
    volumes(pod) === volumes(want) &&
    a?.image === b?.image &&
    [GPU_RESOURCE, "cpu", "memory"].every((k) => limit(a, k) === limit(b, k))
  );
}

/**
 * How users reach an instance: a load balancer's address with the service's ports, else the access
 * host (or the node's external, else internal, address) with its node ports, else the cluster IP
 * with the service's ports. SSH is `sshPort`; each software port (`http-8888`) is in `ports`
 * (`http/8888` → the port to reach it on).
 */
export function accessOf(
  svc: V1Service,
  node: V1Node | undefined,
  accessHost: string | undefined,
): Access | undefined {
  const at = (ip: string, port: (p: V1ServicePort) => number | undefined): Access | undefined => {
    const all = svc.spec?.ports ?? [];
    const ssh = all.find((p) => p.name === "ssh");
    const sshPort = ssh && port(ssh);
    if (!sshPort) return undefined;
    const ports: Record<string, number> = {};
    for (const p of all) {
      const n = port(p);
      if (p.name && p.name !== "ssh" && n) ports[p.name.replace("-", "/")] = n;
    }
    return { ip, sshPort, ports };
  };
  const ingress = svc.status?.loadBalancer?.ingress?.[0];
  const lb = ingress?.ip || ingress?.hostname;
  if (lb) return at(lb, (p) => p.port);
  const addresses = node?.status?.addresses ?? [];
  const addr =
    accessHost ??
    addresses.find((a) => a.type === "ExternalIP")?.address ??
    addresses.find((a) => a.type === "InternalIP")?.address;
  const viaNode = addr ? at(addr, (p) => p.nodePort) : undefined;
  if (viaNode) return viaNode;
  const clusterIp = svc.spec?.clusterIP;
  return clusterIp && clusterIp !== "None" ? at(clusterIp, (p) => p.port) : undefined;
}
