import type {
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
  V1Service,
  V1TypedLocalObjectReference,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { InstancePorts } from "../../domain/records.js";
import type { RuntimeSpec } from "../driver.js";

/** Labels on everything the driver makes. */
export const LABELS = {
  /** The store it belongs to: only that store's objects are ever listed, watched or removed. */
  store: "opencompshare.io/store",
  instance: "opencompshare.io/instance",
  disk: "opencompshare.io/disk",
  /** A volume claim's role: the instance's system disk, a data disk, or a custom image (a clone). */
  role: "opencompshare.io/role",
  /** The custom image a snapshot or a cloned claim is. */
  image: "opencompshare.io/image",
} as const;

/** The GPU resource of the NVIDIA device plugin. */
export const GPU_RESOURCE = "nvidia.com/gpu";
/** Node labels that say what a node's GPUs are and where it is. */
export const NODE_LABELS = {
  gpuType: "opencompshare.io/gpu-type",
  zone: "opencompshare.io/zone",
  product: "nvidia.com/gpu.product",
} as const;
/** Taints our pods tolerate: GPU node pools are often tainted so that only GPU pods land there. */
export const TOLERATED_TAINTS = [GPU_RESOURCE];

export const podName = (id: string) => `ocs-${id}`;
export const serviceName = podName;
export const secretName = podName;
export const systemClaimName = (id: string) => `ocs-${id}-system`;
export const dataClaimName = (diskId: string) => `ocs-${diskId}`;

/** The API group of CSI volume snapshots. */
export const SNAPSHOT_GROUP = "snapshot.storage.k8s.io";

/**
 * A custom image's reference (what `RuntimeSpec.image` names to start an instance from it):
 * `snapshot:<name>` or `clone:<name>`. A new system disk is a claim with that object as its
 * `dataSource`; undefined for a runtime image.
 */
export function imageSource(ref: string): V1TypedLocalObjectReference | undefined {
  const m = /^(snapshot|clone):(.+)$/.exec(ref);
  if (!m) return undefined;
  return m[1] === "snapshot"
    ? { apiGroup: SNAPSHOT_GROUP, kind: "VolumeSnapshot", name: m[2] as string }
    : { kind: "PersistentVolumeClaim", name: m[2] as string };
}

/** Where the system disk's volume is mounted in the seeding init container. */
const SEED_MOUNT = "/ocs-system";
/** Where the root password is mounted for the start hook (read-only, root only). */
const PASSWORD_MOUNT = "/etc/opencompshare";
/** Keeps a pod without its own long-running process alive; exits at once on SIGTERM. */
const KEEPALIVE = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1; done"];
/** Seconds a stopped instance's processes get between SIGTERM and SIGKILL (as `docker stop -t 10`). */
export const STOP_GRACE_SECONDS = 10;

export interface PodOptions {
  storeId: string;
  /** Absolute paths of the instance's own filesystem kept on its system-disk volume. */
  persistPaths: string[];
}

/** The system disk's subdirectory holding one persisted path ("/usr/local" → "usr_local"). */
export const subPathOf = (path: string) => path.replace(/^\/+/, "").replace(/\/+$/, "").replace(/\//g, "_");

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * The init step that fills the system disk from the image on the instance's first start: each
 * persisted path is copied into its own subdirectory, which the instance then mounts over that
 * path. It is copied under a temporary name and renamed, so a start interrupted mid-copy copies
 * again, and a disk once filled is never overwritten.
 */
export function seedScript(paths: string[]): string {
  return paths
    .map((p) => {
      const d = `${SEED_MOUNT}/${subPathOf(p)}`;
      return `if [ ! -d ${quote(d)} ]; then rm -rf ${quote(`${d}.seed`)} && mkdir -p ${quote(`${d}.seed`)} && { [ ! -d ${quote(p)} ] || cp -a ${quote(`${p}/.`)} ${quote(`${d}.seed/`)}; } && mv ${quote(`${d}.seed`)} ${quote(d)}; fi`;
    })
    .join("\n");
}

/**
 * Sets root's password from the mounted secret right after the container starts, where the image
 * has chpasswd; never fails the start (a failing hook would kill the container).
 */
const PASSWORD_HOOK = `f=${PASSWORD_MOUNT}/password; if [ -r "$f" ] && command -v chpasswd >/dev/null 2>&1; then printf 'root:%s\\n' "$(cat "$f")" | chpasswd; fi; exit 0`;

/**
 * One instance's pod. Pinned to its host (the node core placed it on) by a required node
 * affinity, so the scheduler still admits it against the node's real free resources and says why
 * when it cannot. It never restarts by itself (an exit is the instance stopping), never gets a
 * token for the cluster's API, and holds exactly `gpus` GPUs (none: NVIDIA_VISIBLE_DEVICES=void,
 * so an image that asks for all GPUs sees none).
 */
export function podFor(spec: RuntimeSpec, gpus: number, opts: PodOptions): V1Pod {
  // An instance of a custom image runs its base image; the image itself is its system disk.
  const image = imageSource(spec.image) ? (spec.baseImage ?? spec.image) : spec.image;
  const compute = { cpu: String(spec.cpu), memory: `${spec.memoryMB}Mi` };
  const resources = gpus > 0 ? { ...compute, [GPU_RESOURCE]: String(gpus) } : compute;
  const volumes: V1Volume[] = [
    { name: "system", persistentVolumeClaim: { claimName: systemClaimName(spec.id) } },
    { name: "password", secret: { secretName: secretName(spec.id), defaultMode: 0o400 } },
    ...spec.dataDisks.map((d, i) => ({
      name: `data-${i}`,
      persistentVolumeClaim: { claimName: dataClaimName(d.id) },
    })),
  ];
  const mounts: V1VolumeMount[] = [
    ...opts.persistPaths.map((p) => ({ name: "system", mountPath: p, subPath: subPathOf(p) })),
    { name: "password", mountPath: PASSWORD_MOUNT, readOnly: true },
    ...spec.dataDisks.map((d, i) => ({ name: `data-${i}`, mountPath: `/mnt/${d.id}` })),
  ];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName(spec.id),
      labels: { [LABELS.store]: opts.storeId, [LABELS.instance]: spec.id },
    },
    spec: {
      hostname: spec.id.slice(0, 63),
      restartPolicy: "Never",
      terminationGracePeriodSeconds: STOP_GRACE_SECONDS,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: "metadata.name", operator: "In", values: [spec.hostId] }] },
            ],
          },
        },
      },
      tolerations: TOLERATED_TAINTS.map((key) => ({ key, operator: "Exists" })),
      initContainers: opts.persistPaths.length
        ? [
            {
              name: "seed-system-disk",
              image,
              command: ["sh", "-c", seedScript(opts.persistPaths)],
              resources: { requests: compute, limits: compute },
              volumeMounts: [{ name: "system", mountPath: SEED_MOUNT }],
            },
          ]
        : undefined,
      containers: [
        {
          name: "instance",
          image,
          // As the docker driver: the catalog's command goes to the image's entrypoint.
          args: spec.command ?? KEEPALIVE,
          env: gpus > 0 ? undefined : [{ name: "NVIDIA_VISIBLE_DEVICES", value: "void" }],
          resources: { requests: resources, limits: resources },
          ports: [{ name: "ssh", containerPort: 22, protocol: "TCP" }],
          volumeMounts: mounts,
          lifecycle: { postStart: { exec: { command: ["sh", "-c", PASSWORD_HOOK] } } },
        },
      ],
      volumes,
    },
  };
}

/** A volume claim: the instance's system disk, or a data disk. */
export function claimFor(
  name: string,
  labels: Record<string, string>,
  sizeGB: number,
  storageClass: string | undefined,
  dataSource?: V1TypedLocalObjectReference,
): V1PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, labels },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: `${sizeGB}Gi` } },
      storageClassName: storageClass,
      dataSource,
    },
  };
}

export type ServiceType = "NodePort" | "LoadBalancer" | "ClusterIP";

/** A published software port's name on the Service: `http-8888`, `tcp-23` (Access.ports: `http/8888`). */
export const portName = (proto: "http" | "tcp", port: number) => `${proto}-${port}`;

/** The instance's way in: SSH on 22, and the software ports it publishes (`HttpPorts`, `TcpPorts`). */
export function serviceFor(id: string, storeId: string, type: ServiceType, ports?: InstancePorts): V1Service {
  const labels = { [LABELS.store]: storeId, [LABELS.instance]: id };
  const published = (["http", "tcp"] as const).flatMap((proto) =>
    (ports?.[proto] ?? []).map((port) => ({
      name: portName(proto, port),
      port,
      targetPort: port,
      protocol: "TCP",
    })),
  );
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: serviceName(id), labels },
    spec: {
      type,
      selector: labels,
      ports: [{ name: "ssh", port: 22, targetPort: 22, protocol: "TCP" }, ...published],
    },
  };
}

/** The root password the start hook applies. */
export function secretFor(id: string, storeId: string, password: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: secretName(id), labels: { [LABELS.store]: storeId, [LABELS.instance]: id } },
    type: "Opaque",
    stringData: { password },
  };
}
