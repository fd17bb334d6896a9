import type { InstancePorts } from "../domain/records.js";

/** What a driver needs to know to run an instance; it never sees the database. */
export interface RuntimeSpec {
  id: string;
  /** Runtime image reference from the catalog (the Docker image for the docker driver). */
  image: string;
  /** The container command from the catalog; a driver's own default when absent. */
  command?: string[];
  imageId: string;
  /**
   * For a custom image: the runtime image it was captured from. Its configuration (entrypoint,
   * user, working directory, environment) is the one that applies, not the capture's, which carries
   * the source instance's own wiring.
   */
  baseImage?: string;
  cpu: number;
  memoryMB: number;
  hostId: string;
  /** Size of the system disk (drivers that provision it as a volume of its own use it). */
  systemDiskGB?: number;
  dataDisks: Array<{ id: string; sizeGB: number }>;
  password: string;
  /** Container ports to publish besides SSH's 22 (absent: none). */
  ports?: InstancePorts;
}

/** How an instance is reached over SSH. */
export interface Access {
  ip: string;
  sshPort: number;
  /** Where each port of `RuntimeSpec.ports` was published: `"http/8888"` or `"tcp/23"` → host port. */
  ports?: Record<string, number>;
}

/** One running instance the monitoring collector asks a driver about. */
export interface SampleTarget {
  id: string;
  hostId: string;
  /** Host GPU indexes it holds (empty: without GPU). */
  gpus: number[];
  cpu: number;
  memoryMB: number;
  bootGB: number;
  dataDisks: Array<{ id: string; sizeGB: number }>;
}

/** A driver's readings of one instance at one instant; a reading it cannot make is left out. */
export interface InstanceSample {
  id: string;
  /** Percent of the instance's CPUs. */
  cpu?: number;
  /** Percent of its memory. */
  memory?: number;
  /** Percent of the system disk used. */
  sysDisk?: number;
  dataDisks: Array<{ id: string; used: number }>;
  gpus: Array<{ index: number; uuid: string; busId: string; util: number; memory: number }>;
  /** Bytes per second since the previous reading. */
  netIn?: number;
  netOut?: number;
  diskRead?: number;
  diskWrite?: number;
}

/** What a driver observes about one instance. */
export interface Observed {
  exists: boolean;
  running: boolean;
  /** Why it is not running, when the runtime says (a pod's eviction): shown in Remark. */
  why?: string;
}

/** What to capture into a custom image: the instance's system disk, under the image's id. */
export interface CaptureRequest {
  instanceId: string;
  imageId: string;
  /** The system disk's size, for runtimes that cannot measure what they copy (the simulator). */
  systemDiskGB: number;
  /**
   * When the job was accepted (clock ms). The simulator measures its emulated duration from it, so
   * a clock advanced right after the request finishes the job however late the worker picks it up.
   */
  acceptedAt: number;
}

/** How far a capture is, as well as the runtime can tell (percent 0-100, seconds). */
export interface CaptureProgress {
  percent: number;
  totalSeconds: number;
  remainingSeconds: number;
}

/** What a finished capture left in the runtime. */
export interface CapturedImage {
  /** What `RuntimeSpec.image` names to start an instance from it. */
  ref: string;
  sizeMB: number;
  /** How long the capture took, in seconds (emulated ones for the simulator). */
  seconds: number;
}

/**
 * One GPU server of a fleet the driver itself knows (the kubernetes driver: a node with
 * `nvidia.com/gpu`), as plain data; core maps it onto a catalog GPU type and zone and keeps the
 * hosts table in line with it.
 */
export interface FleetNode {
  name: string;
  /** The GPU type the operator labelled the node with (a catalog GPU type name), if any. */
  gpuType?: string;
  /** The GPU model the node reports (NVIDIA GPU feature discovery's product label), if any. */
  gpuProduct?: string;
  /** The zone the node is labelled with, if any. */
  zone?: string;
  /** GPUs, whole CPUs and MB this install may use: allocatable minus other workloads' requests. */
  gpus: number;
  cpu: number;
  memoryMB: number;
  /** False while nothing new may be placed on it (NotReady, cordoned, tainted). */
  schedulable: boolean;
  /** Why it is not schedulable, for the log. */
  reason?: string;
}

/**
 * The driver interface: small and dumb. Every method is idempotent (the worker may repeat a call
 * after a crash) and throws on failure with a message fit for an instance's Remark.
 */
export interface Driver {
  readonly name: string;
  /** Provisions the system disk and runtime, stopped. */
  create(spec: RuntimeSpec): Promise<void>;
  /** Starts with exactly these GPU indexes of the host (empty = without GPU); says how to reach it. */
  start(spec: RuntimeSpec, gpus: number[]): Promise<Access | undefined>;
  stop(id: string): Promise<void>;
  reboot(id: string): Promise<void>;
  /** Erases the system disk and provisions it again from `spec.image`; data disks are kept. */
  reinstall(spec: RuntimeSpec): Promise<void>;
  /** Removes the runtime and system disk; data disks too when `releaseDataDisks`. */
  destroy(id: string, opts: { releaseDataDisks: boolean; dataDiskIds: string[] }): Promise<void>;
  inspect(id: string): Promise<Observed>;
  list(): Promise<string[]>;
  /**
   * The hosts an instance's disks can be used from, so that a start may move it to one of them when
   * its own host has no room: undefined = any host (network storage). Without this method an
   * instance starts where its disks are, or not at all.
   */
  hostsFor?(id: string, dataDiskIds: string[]): Promise<string[] | undefined>;
  /**
   * Custom images. `captureImage` copies an instance's system disk (never its data disks) into an
   * image, reporting progress as it goes, and returns the reference new instances start from
   * (`create`/`reinstall` with `spec.image` = that reference). It is idempotent: called again for
   * an image it already finished (a crash before the store recorded it), it returns that one.
   * `removeImage` removes one; where instances made from it still need it, the runtime keeps it
   * until they are gone. `listImages` says which image ids of this store the runtime holds (the
   * reconciler removes those the store does not know).
   *
   * Docker: a commit of the instance's container into a labelled local image; removal untags it,
   * and the image goes with the last container that uses it. Kubernetes fits the same three calls:
   * a CSI VolumeSnapshot of the system-disk PVC (progress from its `readyToUse`, the snapshot's name
   * as the reference, new system disks as PVCs with that snapshot as `dataSource`, or a PVC clone
   * where the CSI driver has no snapshots), deleted with the VolumeSnapshot. Optional: a driver
   * without them refuses CreateCompShareCustomImage with a clear error.
   */
  captureImage?(req: CaptureRequest, onProgress: (p: CaptureProgress) => void): Promise<CapturedImage>;
  removeImage?(imageId: string, ref: string | null): Promise<void>;
  listImages?(): Promise<string[]>;
  /** Applies a new root password inside a running instance, where the driver can. */
  setPassword?(id: string, password: string): Promise<void>;
  /**
   * Reports instances that died or vanished out of band (the reconciler listens); `onError` hears
   * why the watch itself is failing (it keeps retrying).
   */
  watch?(onGone: (id: string, why: string) => void, onError?: (e: Error) => void): () => void;
  /**
   * Present when the driver, not the catalog, knows the GPU servers: the fleet now. Core syncs
   * it into the hosts table, and keeps it current through `watchFleet`.
   */
  fleet?(): Promise<FleetNode[]>;
  /** Calls `onChange` with the whole fleet whenever it changes (joins, leaves, NotReady, usage). */
  watchFleet?(onChange: (nodes: FleetNode[]) => void, onError?: (e: Error) => void): () => void;
  /**
   * Brings the data-disk mounts of a stopped instance in line with `spec.dataDisks` now (creating
   * the storage of new disks); a running one takes them at its next start.
   */
  syncDisks?(spec: RuntimeSpec): Promise<void>;
  /** Removes a deleted data disk's storage; a disk already gone is not an error. */
  deleteDisk?(diskId: string): Promise<void>;
  /** Current readings of these running instances (the monitoring collector's tick). */
  sample?(targets: SampleTarget[], now: number): Promise<InstanceSample[]>;
}

export type DriverOp =
  | "create"
  | "start"
  | "stop"
  | "reboot"
  | "reinstall"
  | "destroy"
  | "syncDisks"
  | "deleteDisk"
  | "image";

/** A fault injected into driver calls: fail the next `count` calls of `op`, or each with a probability. */
export interface DriverFault {
  op: DriverOp;
  message: string;
  count?: number;
  probability?: number;
}

/**
 * Monitoring readings (percent) the emulator pins for an instance instead of the sim driver's
 * deterministic wave (the sim driver takes them; core's emulator controls hand them over).
 */
export interface SimLoad {
  cpu?: number;
  memory?: number;
  gpu?: number;
  gpuMemory?: number;
}
