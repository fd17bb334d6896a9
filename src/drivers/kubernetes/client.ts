import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import type { KubernetesObject } from "@kubernetes/client-node";
import { ApiException, KubeConfig, Watch } from "@kubernetes/client-node";

const IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * The cluster's client configuration, as kubectl finds it: the file(s) named by `KUBECONFIG`,
 * else `~/.kube/config`, else the pod's service account when running in the cluster. Throws
 * when there is none (the client library would otherwise quietly aim at http://localhost:8080).
 */
export function loadKubeConfig(kubeconfig: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  const files = (kubeconfig ?? "").split(delimiter).filter(Boolean);
  if (files.length > 0) {
    // As kubectl: several files merge, the first one's current context wins.
    files.forEach((f, i) => {
      if (!existsSync(f)) throw new Error(`KUBECONFIG names ${f}, which does not exist`);
      if (i === 0) return kc.loadFromFile(f);
      const more = new KubeConfig();
      more.loadFromFile(f);
      kc.mergeConfig(more, true);
    });
  } else if (existsSync(join(homedir(), ".kube", "config"))) {
    kc.loadFromFile(join(homedir(), ".kube", "config"));
  } else if (existsSync(IN_CLUSTER_TOKEN)) {
    kc.loadFromCluster();
  } else {
    throw new Error(
      "no cluster to talk to: set KUBECONFIG, or run the server in a pod with a service account",
    );
  }
  if (!kc.getCurrentCluster()) throw new Error("the kubeconfig has no current context with a cluster");
  return kc;
}

/** The namespace of the kubeconfig's current context (in a pod: the pod's own), else "default". */
export function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || "default";
}

/** The HTTP status of a failed API call (undefined for a network error). */
export function statusOf(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** Resolves to undefined instead of failing when the API answers one of `codes` (404, 409, …). */
export async function unless<T>(p: Promise<T>, ...codes: number[]): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    const code = statusOf(e);
    if (code !== undefined && codes.includes(code)) return undefined;
    throw e;
  }
}

/**
 * A failed API call as one line fit for an instance's Remark: the Status message the API server
 * sent (the client library's own message carries the whole response, headers included).
 */
export function describeError(e: unknown): string {
  if (e instanceof ApiException) {
    let message = "";
    try {
      const body = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
      message = typeof body?.message === "string" ? body.message : "";
    } catch {
      message = String(e.body ?? "").slice(0, 200);
    }
    return `Kubernetes API answered ${e.code}${message ? `: ${message}` : ""}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** What a follower decides about the object as it is now: done, failed (why), or keep waiting. */
export type Verdict<T> = { done: T } | { fail: string } | undefined;

/**
 * Follows one object until `check` decides, through a watch on it (no polling): reads it, then
 * watches from the version read, re-reading and re-watching if the watch ends early. `check` sees
 * the object (undefined once it is gone) at every change and once a second (for deadlines),
 * with the milliseconds since the start; after `timeoutMs` it is asked one last time with
 * `timedOut` set and must decide.
 */
export async function follow<T extends KubernetesObject, R>(opts: {
  kc: KubeConfig;
  /** The collection the object lives in, e.g. /api/v1/namespaces/ns/pods. */
  path: string;
  name: string;
  read: () => Promise<T | undefined>;
  check: (obj: T | undefined, elapsedMs: number, timedOut: boolean) => Verdict<R>;
  timeoutMs: number;
}): Promise<R> {
  const t0 = Date.now();
  const watch = new Watch(opts.kc);
  let last = await opts.read();
  const first = opts.check(last, 0, false);
  if (first) return settle(first);
  return new Promise<R>((resolve, reject) => {
    let ended = false;
    let retries = 0;
    let abort: AbortController | undefined;
    const end = (v: Verdict<R>) => {
      if (ended || !v) return;
      ended = true;
      clearInterval(tick);
      clearTimeout(deadline);
      abort?.abort();
      if ("done" in v) resolve(v.done);
      else reject(new Error(v.fail));
    };
    const judge = (timedOut = false) => {
      try {
        end(opts.check(last, Date.now() - t0, timedOut));
      } catch (e) {
        ended = true;
        clearInterval(tick);
        clearTimeout(deadline);
        abort?.abort();
        reject(e);
      }
    };
    const tick = setInterval(() => judge(), 1000);
    const deadline = setTimeout(() => {
      judge(true);
      end({ fail: `gave up after ${Math.round(opts.timeoutMs / 1000)} s` });
    }, opts.timeoutMs);
    const start = async (): Promise<void> => {
      if (ended) return;
      const rv = last?.metadata?.resourceVersion;
      abort = await watch.watch(
        opts.path,
        { fieldSelector: `metadata.name=${opts.name}`, resourceVersion: rv, allowWatchBookmarks: true },
        (type, obj: T) => {
          retries = 0;
          if (type === "ADDED" || type === "MODIFIED") last = obj;
          else if (type === "DELETED") last = undefined;
          else return;
          judge();
        },
        // The watch ended (server timeout, a dropped connection, a version too old, a refusal):
        // read again and watch from there, unless the follower has decided; a watch that keeps
        // ending at once is retried less and less often.
        () => {
          if (ended) return;
          const pause = Math.min(200 * 2 ** retries++, 5000);
          setTimeout(() => {
            opts
              .read()
              .then((o) => {
                last = o;
                judge();
                return start();
              })
              .catch(() => setTimeout(() => void start().catch(() => {}), pause));
          }, pause);
        },
      );
      if (ended) abort.abort();
    };
    start().catch((e) => {
      ended = true;
      clearInterval(tick);
      clearTimeout(deadline);
      reject(e);
    });
  });
}

function settle<R>(v: NonNullable<Verdict<R>>): R {
  if ("done" in v) return v.done;
  throw new Error(v.fail);
}
