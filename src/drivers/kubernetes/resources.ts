import type { CoreV1Api, KubeConfig, V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { RuntimeSpec } from "../driver.js";
import type { Verdict } from "./client.js";
import { describeError, follow, statusOf, unless } from "./client.js";
import type { ServiceType } from "./objects.js";
import {
  LABELS,
  STOP_GRACE_SECONDS,
  claimFor,
  dataClaimName,
  imageSource,
  secretFor,
  secretName,
  serviceFor,
  serviceName,
  systemClaimName,
} from "./objects.js";
import { parseQuantity } from "./quantity.js";

/** Size of a system disk when the spec has none (core always gives one). */
const DEFAULT_SYSTEM_GB = 20;
/**
 * How long a deleted pod or claim may take to go: the grace period, then the kubelet's cleanup. A
 * pod on a node whose kubelet died stays until the node is declared NotReady (the controller
 * manager's grace period, 50 s by default) and the watch deletes it, so this outlasts that.
 */
const GONE_TIMEOUT_MS = (STOP_GRACE_SECONDS + 110) * 1000;

export interface ResourceOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  storeId: string;
  storageClass?: string;
  serviceType: ServiceType;
}

/**
 * The objects an instance has besides its pod, kept in line with its spec: the Secret with its
 * password, the volume claims of its disks (made when missing, grown when the spec's size is
 * larger), and the Service with SSH and its software ports.
 */
export class InstanceResources {
  constructor(
    private readonly core: CoreV1Api,
    private readonly opts: ResourceOptions,
  ) {}

  private get ns(): string {
    return this.opts.namespace;
  }

  async ensure(spec: RuntimeSpec): Promise<void> {
    const secret = secretFor(spec.id, this.opts.storeId, spec.password);
    const replaced = await unless(
      this.core.replaceNamespacedSecret({ name: secretName(spec.id), namespace: this.ns, body: secret }),
      404,
    );
    if (!replaced) await unless(this.core.createNamespacedSecret({ namespace: this.ns, body: secret }), 409);
    await this.ensureClaim(
      claimFor(
        systemClaimName(spec.id),
        { [LABELS.store]: this.opts.storeId, [LABELS.instance]: spec.id, [LABELS.role]: "system" },
        spec.systemDiskGB ?? DEFAULT_SYSTEM_GB,
        this.opts.storageClass,
        // A custom image's disk: a new volume with the image's snapshot (or clone) as its content.
        imageSource(spec.image),
      ),
    );
    await this.ensureDataClaims(spec);
    await this.ensureService(spec);
  }

  /** The data disks' claims (a running pod mounts new ones at its next start). */
  async ensureDataClaims(spec: RuntimeSpec): Promise<void> {
    for (const d of spec.dataDisks) {
      await this.ensureClaim(
        claimFor(
          dataClaimName(d.id),
          { [LABELS.store]: this.opts.storeId, [LABELS.disk]: d.id, [LABELS.role]: "data" },
          d.sizeGB,
          this.opts.storageClass,
        ),
      );
    }
  }

  /**
   * Makes a claim, or grows one whose request is smaller than the spec's size (a resized disk):
   * volume expansion, which the storage class must allow. A class that does not is said so, and
   * the start fails rather than run on a disk smaller than the one sold.
   */
  private async ensureClaim(want: V1PersistentVolumeClaim): Promise<void> {
    if (
      await unless(this.core.createNamespacedPersistentVolumeClaim({ namespace: this.ns, body: want }), 409)
    )
      return;
    const name = want.metadata?.name as string;
    const have = await this.core.readNamespacedPersistentVolumeClaim({ name, namespace: this.ns });
    const size = want.spec?.resources?.requests?.storage as string;
    if (parseQuantity(have.spec?.resources?.requests?.storage) >= parseQuantity(size)) return;
    const grown = {
      ...have,
      spec: { ...have.spec, resources: { ...have.spec?.resources, requests: { storage: size } } },
    };
    try {
      await this.core.replaceNamespacedPersistentVolumeClaim({ name, namespace: this.ns, body: grown });
    } catch (e) {
      if (statusOf(e) !== 403 && statusOf(e) !== 422) throw e;
      throw new Error(
        `disk ${name} cannot grow to ${size}: ${describeError(e)} (its storage class must allow volume expansion: allowVolumeExpansion: true)`,
      );
    }
  }

  /** The Service: SSH and the spec's software ports; node ports of ports kept stay as they were. */
  private async ensureService(spec: RuntimeSpec): Promise<void> {
    const want = serviceFor(spec.id, this.opts.storeId, this.opts.serviceType, spec.ports);
    if (await unless(this.core.createNamespacedService({ namespace: this.ns, body: want }), 409)) return;
    const name = serviceName(spec.id);
    const have = await this.core.readNamespacedService({ name, namespace: this.ns });
    const key = (ports: typeof want.spec) =>
      JSON.stringify((ports?.ports ?? []).map((p) => `${p.name}:${p.port}`).sort());
    if (key(have.spec) === key(want.spec) && have.spec?.type === want.spec?.type) return;
    const kept = new Map((have.spec?.ports ?? []).map((p) => [`${p.name}:${p.port}`, p.nodePort]));
    const ports = (want.spec?.ports ?? []).map((p) => ({
      ...p,
      nodePort: want.spec?.type === "ClusterIP" ? undefined : kept.get(`${p.name}:${p.port}`),
    }));
    await this.core.replaceNamespacedService({
      name,
      namespace: this.ns,
      body: { ...have, spec: { ...have.spec, type: want.spec?.type, ports } },
    });
  }

  async deleteClaim(name: string): Promise<void> {
    const read = () =>
      unless(this.core.readNamespacedPersistentVolumeClaim({ name, namespace: this.ns }), 404);
    await unless(this.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: this.ns }), 404);
    await this.waitGone("persistentvolumeclaims", name, read);
  }

  /** Waits (with a watch) until an object is gone; it fails when it is still there after a while. */
  waitGone(
    kind: string,
    name: string,
    read: () => Promise<{ metadata?: object } | undefined>,
  ): Promise<true> {
    return follow({
      kc: this.opts.kubeConfig,
      path: `/api/v1/namespaces/${this.ns}/${kind}`,
      name,
      read: read as () => Promise<V1PersistentVolumeClaim | undefined>,
      check: (o, _ms, timedOut): Verdict<true> =>
        o === undefined
          ? { done: true }
          : timedOut
            ? { fail: `${kind}/${name} is still being deleted` }
            : undefined,
      timeoutMs: GONE_TIMEOUT_MS,
    });
  }
}
