import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import { CoreV1Api } from "@kubernetes/client-node";
import { UnsupportedByRuntime } from "../../domain/errors.js";
import { Lru } from "../../domain/lru.js";
import type {
  Access,
  CaptureProgress,
  CaptureRequest,
  CapturedImage,
  Driver,
  FleetNode,
  Observed,
  RuntimeSpec,
} from "../driver.js";
import { describeError, follow, unless } from "./client.js";
import type { ImageMode } from "./images.js";
import { KubernetesImages } from "./images.js";
import type { ServiceType } from "./objects.js";
import {
  LABELS,
  dataClaimName,
  podFor,
  podName,
  secretName,
  serviceName,
  systemClaimName,
} from "./objects.js";
import { accessOf, sameShape, startVerdict } from "./pod-status.js";
import { InstanceResources } from "./resources.js";
import { ClusterView, fleetOf, nodeMatches, podGone } from "./view.js";

export interface KubernetesOptions {
  kubeConfig: KubeConfig;
  /** Where instances' pods, volume claims, services and secrets live. */
  namespace: string;
  /** Everything is labelled with it; only this store's objects are listed, watched or removed. */
  storeId: string;
  /** For the volume claims; absent: the cluster's default storage class. */
  storageClass?: string;
  serviceType: ServiceType;
  /** The address users reach instances on (a node's address when absent). */
  accessHost?: string;
  /** How long a pod may stay unscheduled before its start fails with the scheduler's reason. */
  scheduleTimeoutMs: number;
  /** How long a scheduled pod may take to run (image pulls included). */
  startTimeoutMs: number;
  /** Paths of an instance's filesystem kept on its system disk. */
  persistPaths: string[];
  /** How custom images are made (VolumeSnapshots, or cloned claims). */
  imageMode: ImageMode;
  /** The VolumeSnapshotClass of custom images (absent: the cluster's default). */
  snapshotClass?: string;
}

/**
 * One instance = a labelled pod on a GPU node of a Kubernetes cluster, with a volume claim for
 * its system disk (the persisted paths of its filesystem), one per data disk at /mnt/<DiskId>, a
 * Service for SSH and a Secret with its root password. Stop deletes the pod (its GPUs go back to
 * the node); Start makes it again on the same node. The fleet is the cluster's GPU nodes, watched
 * with informers together with every pod, so capacity counts other workloads and an instance
 * whose pod ends, is deleted or evicted, or whose node is lost, is reported gone.
 */
export class KubernetesDriver implements Driver {
  readonly name = "kubernetes";
  readonly core: CoreV1Api;
  private view: ClusterView | undefined;
  private viewStarting: Promise<void> | undefined;
  private readonly goneListeners = new Set<{
    gone: (id: string, why: string) => void;
    error?: (e: Error) => void;
  }>();
  private readonly fleetListeners = new Set<{
    change: (n: FleetNode[]) => void;
    error?: (e: Error) => void;
  }>();
  private fleetTimer: NodeJS.Timeout | undefined;
  /** Pods on lost nodes being deleted, so repeated events delete each once. */
  private readonly losing = new Set<string>();
  /**
   * Why an instance's pod went, as the informers told it, by pod: a pod evicted by a drain is
   * deleted within its grace period, and the reconciler's sweep may ask after it is. Told only
   * for the pod last seen running (a late event of an older life, or of a pod this process
   * replaced, is not the instance's story).
   */
  private readonly goneWhy = new Lru<string, { uid: string; why: string }>(1000);
  private readonly runningUid = new Lru<string, string>(1000);

  private readonly resources: InstanceResources;
  private readonly images: KubernetesImages;

  constructor(readonly opts: KubernetesOptions) {
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
    this.resources = new InstanceResources(this.core, opts);
    this.images = new KubernetesImages(this.core, { ...opts, mode: opts.imageMode });
  }

  private get ns(): string {
    return this.opts.namespace;
  }

  async create(spec: RuntimeSpec): Promise<void> {
    await this.resources.ensure(spec);
  }

  async start(spec: RuntimeSpec, gpus: number[]): Promise<Access | undefined> {
    try {
      await this.resources.ensure(spec);
      const want = podFor(spec, gpus.length, this.opts);
      // A repeated start finds its pod already made; one of another shape (GPUs, spec, volumes) or
      // one that ended is replaced.
      const pod = await this.readPod(spec.id);
      const reuse = pod !== undefined && !podGone(pod) && sameShape(pod, want);
      if (pod && !reuse) await this.deletePod(spec.id, 0);
      if (!reuse) await this.core.createNamespacedPod({ namespace: this.ns, body: want });
      const running = await this.waitRunning(spec.id);
      this.seenRunning(spec.id, running);
      return await this.access(running);
    } catch (e) {
      // A pod that could not run must not keep the node's GPUs held: the start is rolled back.
      await this.deletePod(spec.id, 0).catch(() => {});
      throw new Error(describeError(e));
    }
  }

  async stop(id: string): Promise<void> {
    await this.call(() => this.deletePod(id));
  }

  async reboot(id: string): Promise<void> {
    await this.call(async () => {
      const pod = await this.readPod(id);
      if (!pod || pod.status?.phase !== "Running" || podGone(pod))
        throw new Error(`instance ${id} is not running`);
      await this.deletePod(id);
      // The same pod again: its spec, less what the API server set on it, and back to the scheduler.
      const { nodeName: _bound, ...spec } = pod.spec ?? { containers: [] };
      await this.core.createNamespacedPod({
        namespace: this.ns,
        body: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: pod.metadata?.name, labels: pod.metadata?.labels },
          spec,
        },
      });
      this.seenRunning(id, await this.waitRunning(id));
    });
  }

  async reinstall(spec: RuntimeSpec): Promise<void> {
    await this.call(async () => {
      await this.deletePod(spec.id);
      await this.resources.deleteClaim(systemClaimName(spec.id));
      await this.resources.ensure(spec);
    });
  }

  async destroy(id: string, opts: { releaseDataDisks: boolean; dataDiskIds: string[] }): Promise<void> {
    await this.call(async () => {
      await this.deletePod(id, 0);
      await unless(this.core.deleteNamespacedService({ name: serviceName(id), namespace: this.ns }), 404);
      await unless(this.core.deleteNamespacedSecret({ name: secretName(id), namespace: this.ns }), 404);
      await this.resources.deleteClaim(systemClaimName(id));
      if (opts.releaseDataDisks)
        for (const d of opts.dataDiskIds) await this.resources.deleteClaim(dataClaimName(d));
    });
  }

  async inspect(id: string): Promise<Observed> {
    // The informers' cache answers "running" without a call (the reconciler's sweep asks for
    // every running instance); anything else is confirmed with the API, as the cache may lag.
    const cached = this.view?.synced ? this.view.pods.get(podName(id), this.ns) : undefined;
    if (cached && cached.status?.phase === "Running" && !podGone(cached)) {
      this.seenRunning(id, cached);
      return { exists: true, running: true };
    }
    return this.call(async () => {
      const pod = await this.readPod(id);
      const live = pod !== undefined && !pod.metadata?.deletionTimestamp;
      // The pod's own account (evicted by a drain, deleted by someone): the sweep and the
      // informers then give the same reason, whichever sees the pod first.
      const last = this.goneWhy.get(id);
      const gone = pod ? podGone(pod) : last?.uid === this.runningUid.get(id) ? last?.why : undefined;
      const why = gone ? { why: gone } : {};
      const running = live && pod?.status?.phase === "Running" && gone === undefined;
      if (running) this.seenRunning(id, pod);
      if (live) return { exists: true, running, ...(running ? {} : why) };
      const claim = await unless(
        this.core.readNamespacedPersistentVolumeClaim({ name: systemClaimName(id), namespace: this.ns }),
        404,
      );
      return { exists: claim !== undefined && !claim.metadata?.deletionTimestamp, running: false, ...why };
    });
  }

  async list(): Promise<string[]> {
    return this.call(async () => {
      const labelSelector = `${LABELS.store}=${this.opts.storeId},${LABELS.instance}`;
      const q = { namespace: this.ns, labelSelector };
      const lists = await Promise.all([
        this.core.listNamespacedPod(q),
        this.core.listNamespacedPersistentVolumeClaim(q),
        this.core.listNamespacedService(q),
        this.core.listNamespacedSecret(q),
      ]);
      const ids = new Set<string>();
      for (const l of lists) {
        for (const o of l.items) {
          if (o.metadata?.deletionTimestamp) continue;
          const id = o.metadata?.labels?.[LABELS.instance];
          if (id) ids.add(id);
        }
      }
      return [...ids];
    });
  }

  /**
   * The nodes from which every disk of the instance can be used: those its bound volumes' node
   * affinity allows (local volumes, zonal disks); any node when none has one (network storage)
   * or none is bound yet (the claim binds where the pod goes).
   */
  async hostsFor(id: string, dataDiskIds: string[]): Promise<string[] | undefined> {
    return this.call(async () => {
      let allowed: string[] | undefined;
      for (const name of [systemClaimName(id), ...dataDiskIds.map(dataClaimName)]) {
        const claim = await unless(
          this.core.readNamespacedPersistentVolumeClaim({ name, namespace: this.ns }),
          404,
        );
        const volume = claim?.spec?.volumeName
          ? await unless(this.core.readPersistentVolume({ name: claim.spec.volumeName }), 404)
          : undefined;
        const terms = volume?.spec?.nodeAffinity?.required?.nodeSelectorTerms;
        if (!terms) continue;
        const nodes = this.view?.synced ? [...this.view.nodes.list()] : (await this.core.listNode()).items;
        const here = nodes.filter((n) => nodeMatches(n, terms)).map((n) => n.metadata?.name as string);
        allowed = allowed ? allowed.filter((n) => here.includes(n)) : here;
      }
      return allowed;
    });
  }

  /**
   * Makes the claims of newly attached data disks (and grows resized ones) now; the pod, which
   * exists only while the instance runs, mounts exactly `spec.dataDisks` at its next start.
   */
  async syncDisks(spec: RuntimeSpec): Promise<void> {
    await this.call(() => this.resources.ensureDataClaims(spec));
  }

  /** A deleted data disk's claim goes (its volume with it, as the storage class's reclaim policy says). */
  async deleteDisk(diskId: string): Promise<void> {
    await this.call(() => this.resources.deleteClaim(dataClaimName(diskId)));
  }

  /** A custom image: a VolumeSnapshot (or a cloned claim) of the system disk (see images.ts). */
  captureImage(req: CaptureRequest, onProgress: (p: CaptureProgress) => void): Promise<CapturedImage> {
    return this.call(() => this.images.capture(req, onProgress));
  }

  /** Disks already made from the image are volumes of their own: it goes at once. */
  async removeImage(imageId: string): Promise<void> {
    await this.call(() => this.images.remove(imageId));
  }

  listImages(): Promise<string[]> {
    return this.call(() => this.images.list());
  }

  /** The running pod's password comes from its Secret at start; a running one cannot be reached. */
  async setPassword(): Promise<void> {
    throw new UnsupportedByRuntime(
      "on Kubernetes the password is applied when the instance starts (a running pod is not entered from outside)",
    );
  }

  /** Data disks' volume claims of this store, by disk id (for the reconciler's garbage collection). */
  async volumes(): Promise<string[]> {
    return this.call(async () => {
      const l = await this.core.listNamespacedPersistentVolumeClaim({
        namespace: this.ns,
        labelSelector: `${LABELS.store}=${this.opts.storeId},${LABELS.role}=data`,
      });
      return l.items.map((c) => c.metadata?.labels?.[LABELS.disk] as string).filter(Boolean);
    });
  }

  async removeDataVolume(diskId: string): Promise<void> {
    await this.call(() => this.resources.deleteClaim(dataClaimName(diskId)));
  }

  // ---------------------------------------------------------------- fleet and watch

  /** The GPU nodes now, with other workloads' requests taken off (reads the API once). */
  async fleet(): Promise<FleetNode[]> {
    if (this.view?.synced) return fleetOf(this.view.nodes.list(), this.view.pods.list(), this.opts.storeId);
    return this.call(async () => {
      const [nodes, pods] = await Promise.all([this.core.listNode(), this.core.listPodForAllNamespaces()]);
      return fleetOf(nodes.items, pods.items, this.opts.storeId);
    });
  }

  watchFleet(onChange: (nodes: FleetNode[]) => void, onError?: (e: Error) => void): () => void {
    const l = { change: onChange, error: onError };
    this.fleetListeners.add(l);
    this.ensureView();
    return () => {
      this.fleetListeners.delete(l);
      this.releaseView();
    };
  }

  /** Instances whose pod ended, was deleted or evicted, or whose node was lost. */
  watch(onGone: (id: string, why: string) => void, onError?: (e: Error) => void): () => void {
    const l = { gone: onGone, error: onError };
    this.goneListeners.add(l);
    this.ensureView();
    return () => {
      this.goneListeners.delete(l);
      this.releaseView();
    };
  }

  /** Resolves once the informers have listed the cluster (tests wait on it). */
  async synced(): Promise<void> {
    await this.viewStarting;
  }

  private ensureView(): void {
    if (this.view) return;
    this.view = new ClusterView(this.opts.kubeConfig, this.core, this.opts.storeId, {
      gone: (id, why, lost, uid) => this.onGone(id, why, lost, uid),
      running: (id, uid) => this.runningUid.set(id, uid),
      fleetChanged: () => this.fleetChanged(),
      error: (e) => {
        for (const l of [...this.goneListeners, ...this.fleetListeners]) l.error?.(e);
      },
    });
    this.viewStarting = this.view.start();
  }

  private releaseView(): void {
    if (this.goneListeners.size + this.fleetListeners.size > 0 || !this.view) return;
    const v = this.view;
    this.view = undefined;
    clearTimeout(this.fleetTimer);
    this.fleetTimer = undefined;
    void v.stop();
  }

  /** Coalesces a burst of changes (a node's pods all moving at once) into one fleet report. */
  private fleetChanged(): void {
    if (this.fleetTimer || this.fleetListeners.size === 0) return;
    this.fleetTimer = setTimeout(() => {
      this.fleetTimer = undefined;
      const v = this.view;
      // Until both lists are in, a fleet would lack nodes or other workloads' pods; the list's
      // own events call again.
      if (!v?.synced) return;
      const nodes = fleetOf(v.nodes.list(), v.pods.list(), this.opts.storeId);
      for (const l of this.fleetListeners) l.change(nodes);
    }, 100);
  }

  /** The instance's newest life: the pod it runs in now. */
  private seenRunning(id: string, pod: V1Pod | undefined): void {
    const uid = pod?.metadata?.uid;
    if (uid) this.runningUid.set(id, uid);
  }

  /**
   * A pod on a lost node is deleted at once (no grace: its kubelet is not there to confirm), so
   * it cannot come back with the node and run on GPUs the store has given back; then its
   * instance is reported gone.
   */
  private onGone(id: string, why: string, lost?: { pod: string; namespace: string }, uid?: string): void {
    if (uid) this.goneWhy.set(id, { uid, why });
    const report = () => {
      for (const l of this.goneListeners) l.gone(id, why);
    };
    if (!lost) {
      report();
      return;
    }
    const key = `${lost.namespace}/${lost.pod}`;
    if (this.losing.has(key)) return;
    this.losing.add(key);
    unless(
      this.core.deleteNamespacedPod({ name: lost.pod, namespace: lost.namespace, gracePeriodSeconds: 0 }),
      404,
    )
      .then(report, (e) => {
        for (const l of this.goneListeners)
          l.error?.(new Error(`deleting ${key} on a lost node: ${describeError(e)}`));
      })
      .finally(() => this.losing.delete(key));
  }

  // ---------------------------------------------------------------- internals

  /** Runs an API call, turning its failure into one readable line. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new Error(describeError(e));
    }
  }

  private readPod(id: string): Promise<V1Pod | undefined> {
    return unless(this.core.readNamespacedPod({ name: podName(id), namespace: this.ns }), 404);
  }

  /** Deletes an instance's pod and waits until it is gone, so its GPUs are free when we return. */
  private async deletePod(id: string, graceSeconds?: number): Promise<void> {
    await unless(
      this.core.deleteNamespacedPod({
        name: podName(id),
        namespace: this.ns,
        gracePeriodSeconds: graceSeconds,
      }),
      404,
    );
    await this.resources.waitGone("pods", podName(id), () => this.readPod(id));
  }

  /** Waits for the instance's pod to run, or says why it cannot (see startVerdict). */
  private waitRunning(id: string): Promise<V1Pod> {
    const { scheduleTimeoutMs, startTimeoutMs } = this.opts;
    return follow<V1Pod, V1Pod>({
      kc: this.opts.kubeConfig,
      path: `/api/v1/namespaces/${this.ns}/pods`,
      name: podName(id),
      read: () => this.readPod(id),
      timeoutMs: scheduleTimeoutMs + startTimeoutMs,
      check: (pod, ms, timedOut) => startVerdict(pod, ms, timedOut, this.opts),
    });
  }

  private async access(pod: V1Pod): Promise<Access | undefined> {
    const id = pod.metadata?.labels?.[LABELS.instance] as string;
    const svc = await this.core.readNamespacedService({ name: serviceName(id), namespace: this.ns });
    const node =
      pod.spec?.nodeName && !this.opts.accessHost
        ? await unless(this.core.readNode({ name: pod.spec.nodeName }), 404)
        : undefined;
    return accessOf(svc, node, this.opts.accessHost);
  }
}
