import type {
  CoreV1Api,
  KubeConfig,
  KubernetesObject,
  V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { UnsupportedByRuntime } from "../../domain/errors.js";
import type { CaptureProgress, CaptureRequest, CapturedImage } from "../driver.js";
import { follow, statusOf, unless } from "./client.js";
import { LABELS, SNAPSHOT_GROUP, systemClaimName } from "./objects.js";
import { parseQuantity } from "./quantity.js";

/**
 * How custom images are made: `snapshot` = a CSI VolumeSnapshot of the system disk's claim (the
 * snapshot.storage.k8s.io API and a CSI driver that snapshots); `clone` = a claim cloned from it
 * (`dataSource` of kind PersistentVolumeClaim, for CSI drivers that clone but do not snapshot).
 */
export type ImageMode = "snapshot" | "clone";

const GROUP = SNAPSHOT_GROUP;
const VERSION = "v1";
const PLURAL = "volumesnapshots";
/** How long a snapshot or a clone may take before the capture fails (large disks copy slowly). */
const CAPTURE_TIMEOUT_MS = 3600_000;

/** A VolumeSnapshot, as much of it as is read here. */
interface VolumeSnapshot extends KubernetesObject {
  spec?: { source?: { persistentVolumeClaimName?: string }; volumeSnapshotClassName?: string };
  status?: { readyToUse?: boolean; restoreSize?: string; error?: { message?: string } };
}

/** The object an image is, by image id (the id lowercased: object names are). */
export const imageObjectName = (imageId: string) => `ocs-img-${imageId.toLowerCase()}`;

export interface ImageOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  storeId: string;
  mode: ImageMode;
  /** For `snapshot`: the VolumeSnapshotClass (absent: the cluster's default one). */
  snapshotClass?: string;
  storageClass?: string;
}

/**
 * Custom images on Kubernetes: a copy of an instance's system disk (never its data disks) as a
 * VolumeSnapshot or a cloned claim, labelled with the store and the image id, from which new
 * instances' system disks are made. Deleting an image deletes that object; disks already made from
 * it are volumes of their own and stay.
 */
export class KubernetesImages {
  private readonly custom: CustomObjectsApi;

  constructor(
    private readonly core: CoreV1Api,
    private readonly opts: ImageOptions,
  ) {
    this.custom = opts.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  private get ns(): string {
    return this.opts.namespace;
  }

  async capture(req: CaptureRequest, onProgress: (p: CaptureProgress) => void): Promise<CapturedImage> {
    const t0 = Date.now();
    const source = await unless(
      this.core.readNamespacedPersistentVolumeClaim({
        name: systemClaimName(req.instanceId),
        namespace: this.ns,
      }),
      404,
    );
    if (!source || source.metadata?.deletionTimestamp)
      throw new Error(`instance ${req.instanceId} has no system disk to make an image of`);
    const name = imageObjectName(req.imageId);
    const labels = { [LABELS.store]: this.opts.storeId, [LABELS.image]: req.imageId };
    onProgress({ percent: 0, totalSeconds: 0, remainingSeconds: 0 });
    const sizeOf = (restore?: string) =>
      Math.ceil(
        parseQuantity(
          restore ?? source.status?.capacity?.storage ?? source.spec?.resources?.requests?.storage,
        ) /
          2 ** 20,
      );
    let made: { ref: string; sizeMB: number };
    if (this.opts.mode === "snapshot") {
      await this.requireSnapshots();
      const body: VolumeSnapshot = {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "VolumeSnapshot",
        metadata: { name, labels },
        spec: {
          source: { persistentVolumeClaimName: systemClaimName(req.instanceId) },
          volumeSnapshotClassName: this.opts.snapshotClass,
        },
      };
      await unless(this.custom.createNamespacedCustomObject({ ...this.snapshots(), body }), 409);
      const ready = await follow<VolumeSnapshot, VolumeSnapshot>({
        kc: this.opts.kubeConfig,
        path: `/apis/${GROUP}/${VERSION}/namespaces/${this.ns}/${PLURAL}`,
        name,
        read: () => this.readSnapshot(name),
        timeoutMs: CAPTURE_TIMEOUT_MS,
        check: (s, _ms, timedOut) => {
          if (!s) return { fail: `the snapshot ${name} was deleted while it was being made` };
          if (s.status?.readyToUse) return { done: s };
          if (s.status?.error?.message) return { fail: `the snapshot failed: ${s.status.error.message}` };
          return timedOut ? { fail: `the snapshot ${name} was not ready within an hour` } : undefined;
        },
      });
      made = { ref: `snapshot:${name}`, sizeMB: sizeOf(ready.status?.restoreSize) };
    } else {
      const body: V1PersistentVolumeClaim = {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name, labels: { ...labels, [LABELS.role]: "image" } },
        spec: {
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: source.spec?.resources?.requests?.storage as string } },
          storageClassName: source.spec?.storageClassName,
          dataSource: { kind: "PersistentVolumeClaim", name: systemClaimName(req.instanceId) },
        },
      };
      await unless(this.core.createNamespacedPersistentVolumeClaim({ namespace: this.ns, body }), 409);
      const bound = await follow<V1PersistentVolumeClaim, V1PersistentVolumeClaim>({
        kc: this.opts.kubeConfig,
        path: `/api/v1/namespaces/${this.ns}/persistentvolumeclaims`,
        name,
        read: () => unless(this.core.readNamespacedPersistentVolumeClaim({ name, namespace: this.ns }), 404),
        timeoutMs: CAPTURE_TIMEOUT_MS,
        check: (c, _ms, timedOut) => {
          if (!c) return { fail: `the clone ${name} was deleted while it was being made` };
          if (c.status?.phase === "Bound") return { done: c };
          return timedOut
            ? {
                fail: `the clone ${name} was not provisioned within an hour (a storage class that binds only for a pod, WaitForFirstConsumer, cannot clone without one; use OCS_K8S_IMAGE_MODE=snapshot)`,
              }
            : undefined;
        },
      });
      made = { ref: `clone:${name}`, sizeMB: sizeOf(bound.status?.capacity?.storage) };
    }
    const seconds = Math.round((Date.now() - t0) / 1000);
    onProgress({ percent: 100, totalSeconds: seconds, remainingSeconds: 0 });
    return { ...made, seconds };
  }

  async remove(imageId: string): Promise<void> {
    const name = imageObjectName(imageId);
    if (await this.hasSnapshots())
      await unless(this.custom.deleteNamespacedCustomObject({ ...this.snapshots(), name }), 404);
    await unless(this.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: this.ns }), 404);
  }

  /** Image ids this store has an object for. */
  async list(): Promise<string[]> {
    const labelSelector = `${LABELS.store}=${this.opts.storeId},${LABELS.image}`;
    const ids = new Set<string>();
    if (await this.hasSnapshots()) {
      const l = (await this.custom.listNamespacedCustomObject({ ...this.snapshots(), labelSelector })) as {
        items: VolumeSnapshot[];
      };
      for (const s of l.items) ids.add(s.metadata?.labels?.[LABELS.image] as string);
    }
    const claims = await this.core.listNamespacedPersistentVolumeClaim({ namespace: this.ns, labelSelector });
    for (const c of claims.items) ids.add(c.metadata?.labels?.[LABELS.image] as string);
    return [...ids].filter(Boolean);
  }

  private snapshots() {
    return { group: GROUP, version: VERSION, namespace: this.ns, plural: PLURAL };
  }

  private readSnapshot(name: string): Promise<VolumeSnapshot | undefined> {
    return unless(
      this.custom.getNamespacedCustomObject({ ...this.snapshots(), name }) as Promise<VolumeSnapshot>,
      404,
    );
  }

  /** Whether the cluster serves VolumeSnapshots (the CSI snapshot CRDs are installed). */
  private async hasSnapshots(): Promise<boolean> {
    try {
      await this.custom.listNamespacedCustomObject({ ...this.snapshots(), limit: 1 });
      return true;
    } catch (e) {
      if (statusOf(e) === 404) return false;
      throw e;
    }
  }

  private async requireSnapshots(): Promise<void> {
    if (!(await this.hasSnapshots()))
      throw new UnsupportedByRuntime(
        "this Kubernetes cluster cannot make custom images: it has no VolumeSnapshot API (snapshot.storage.k8s.io). Install the CSI snapshot CRDs and controller for a CSI driver that takes snapshots, or set OCS_K8S_IMAGE_MODE=clone where the driver clones volumes",
      );
  }
}
