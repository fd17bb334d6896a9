import type { ChargeType } from "./catalog.js";
import type { State } from "./states.js";

/** One instance as the store keeps it; every layer reads this shape, only the store writes it. */
export interface InstanceRecord {
  id: string;
  accountId: string;
  projectId: string;
  region: string;
  zone: string;
  name: string;
  tag: string;
  remark: string;
  state: State;
  /** The long-running operation holding the instance's lock (an entry of core's operation table). */
  operation: string | null;
  operationExpiresAt: number | null;
  instanceType: "UHost" | "Container";
  machineType: string;
  gpuType: string;
  gpu: number;
  cpu: number;
  memory: number;
  cpuPlatform: string;
  withoutGpu: boolean;
  /** The no-GPU spec it runs (or last ran) with when `withoutGpu` ("A" when null). */
  withoutGpuSpec: string | null;
  /**
   * Set by a Resize into no-GPU mode (the spec's name): a Start that does not say otherwise runs
   * without GPU with it. Cleared by a compute Resize back to a GPU spec.
   */
  noGpuMode: string | null;
  hostId: string | null;
  holdsCompute: boolean;
  chargeType: ChargeType;
  imageId: string;
  passwordSealed: string;
  makingImage: boolean;
  inRecycle: boolean;
  recycledAt: number | null;
  releaseUdisk: boolean;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  stoppedAt: number | null;
  expireAt: number | null;
  schedulerStopAt: number | null;
  releaseAt: number | null;
  lastError: string | null;
  /** Where the driver says the instance is reached over SSH (null until its first start). */
  accessHost: string | null;
  accessPort: number | null;
  /** What UpdateCompShareInstancePorts asked to publish (container ports), besides SSH's 22. */
  ports: InstancePorts;
  /** Where the runtime published them at the last start: `"http/8888"`, `"tcp/23"` → host port. */
  publishedPorts: Record<string, number>;
}

/** Container ports an instance publishes, by protocol as the wire names them (HttpPorts, TcpPorts). */
export interface InstancePorts {
  http: number[];
  tcp: number[];
}

/**
 * Where a disk stands. `Attaching`/`Detaching` while the instance's lock is held for the change;
 * `Deleted` is a tombstone, so deleting twice succeeds while an id never seen is still not found.
 */
export type DiskState = "InUse" | "Available" | "Attaching" | "Detaching" | "Deleted";

export interface DiskRecord {
  id: string;
  accountId: string;
  /** Null for a disk made before disks had projects and left by a purged instance of no project. */
  projectId: string | null;
  /** The instance it is attached to (InUse, Attaching, Detaching); null when detached. */
  instanceId: string | null;
  zone: string;
  isBoot: boolean;
  /** The instance disk type (CLOUD_SSD…); the UDisk spelling (SSDDataDisk…) is a wire matter. */
  diskType: string;
  sizeGB: number;
  /** `/dev/vdb`… while attached; empty when detached. */
  drive: string;
  state: DiskState;
  name: string;
  chargeType: string;
  /** A detached disk Terminate kept: the recycled instance Recover gives it back to. */
  keptFor: string | null;
  createdAt: number;
}

/**
 * Task kinds: `transition` finishes a long-running operation; `image` makes a custom image and
 * `image-remove` removes a deleted one from the runtime (both keyed by the image id, not an
 * instance's); the others are timers. Core owns their handlers; the worker only claims and runs them.
 */
export type TaskKind =
  | "transition"
  | "scheduled-stop"
  | "release"
  | "purge"
  /** Removes a deleted disk's storage from the runtime (`instanceId` holds the disk's id). */
  | "disk-release"
  /** The monitoring collector's recurring tick (one row, see core's `ensureRecurringTask`). */
  | "monitor-sample"
  /** The audit log's hourly retention (one row, like the collector's). */
  | "audit-retention"
  | "image"
  | "image-remove";

export interface TaskRecord {
  id: string;
  kind: TaskKind;
  instanceId: string;
  dueAt: number;
  claimedBy: string | null;
  claimExpiresAt: number | null;
  attempts: number;
  payload: Record<string, unknown>;
}

/** A GPU host with its capacity and what is taken. */
export interface HostRecord {
  id: string;
  zone: string;
  gpuType: string;
  gpuCount: number;
  gpusFree: number;
  cpuTotal: number;
  cpuUsed: number;
  memoryTotal: number;
  memoryUsed: number;
  retired: boolean;
}

/** A host's free capacity, as placement sees it. */
export interface HostRoom {
  id: string;
  gpuCount: number;
  gpusFree: number;
  cpuFree: number;
  memoryFree: number;
}

export interface AccountRecord {
  id: string;
  /** The account's number, as CompShare's integer account ids (image sharing names accounts by it). */
  number: number;
  name: string;
  isRoot: boolean;
  instanceQuota: number;
  /** GPUs its instances may hold at once (stopped instances hold none). */
  gpuQuota: number;
  /** Set: every key of the account answers like an unknown key; its instances keep running. */
  disabledAt: number | null;
  createdAt: number;
}

export interface ProjectRecord {
  id: string;
  accountId: string;
  name: string;
  isDefault: boolean;
  createdAt: number;
}

/**
 * Where a key pair came from: `config` (OCS_ROOT_*) and `generated` (the first start) are the root
 * key the environment manages, replaced at a start with other OCS_ROOT_* keys; `admin` keys are
 * made by `ocs admin` and stay until an operator removes them.
 */
export type KeyOrigin = "config" | "generated" | "admin";

export interface KeyPairRecord {
  publicKey: string;
  accountId: string;
  privateKeySealed: string;
  origin: KeyOrigin;
  createdAt: number;
  /** Set: the key answers like an unknown one (172). */
  disabledAt: number | null;
  /** Last successful authentication, written at most once a minute per key and replica. */
  lastUsedAt: number | null;
}

/** What an audit entry records: a mutating call, a failed authentication, an operator's change. */
export type AuditKind = "call" | "auth-failure" | "admin";

/** One line of the audit log. */
export interface AuditRecord {
  seq: number;
  at: number;
  kind: AuditKind;
  /** Absent for a failed authentication with an unknown key. */
  accountId: string | null;
  /** The key presented (public; truncated to 64 characters). */
  publicKey: string | null;
  /** The client's address (`cli` for `ocs admin`). */
  client: string;
  /** The wire Action, or the admin command (`key disable`). */
  action: string;
  /** Instance, disk, image… ids the call named or made. */
  resourceIds: string[];
  retCode: number;
  requestId: string;
  message: string;
}

/** What an event is about. */
export type EventResourceType = "instance" | "image" | "disk";

/**
 * One change, as the outbox keeps it: written in the same transaction as the change, so nothing
 * is announced that did not commit and nothing committed goes unannounced. `seq` orders events
 * in commit order.
 */
export interface EventRecord {
  seq: number;
  at: number;
  accountId: string;
  projectId: string;
  resourceType: EventResourceType;
  resourceId: string;
  /** e.g. `operation.started`, `operation.failed`, `gpus.released`, `schedule.fired`. */
  kind: string;
  data: Record<string, unknown>;
}
