/** What a driver needs to know to run an instance; it never sees the database. */
export interface RuntimeSpec {
  id: string;
  /** Runtime image reference from the catalog (the Docker image for the docker driver). */
  image: string;
  /** The container command from the catalog; a driver's own default when absent. */
  command?: string[];
  imageId: string;
  cpu: number;
  memoryMB: number;
  hostId: string;
  dataDisks: Array<{ id: string; sizeGB: number }>;
  password: string;
}

/** How an instance is reached over SSH. */
export interface Access {
  ip: string;
  sshPort: number;
}

/** What a driver observes about one instance. */
export interface Observed {
  exists: boolean;
  running: boolean;
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
  /** Applies a new root password inside a running instance, where the driver can. */
  setPassword?(id: string, password: string): Promise<void>;
  /**
   * Reports instances that died or vanished out of band (the reconciler listens); `onError` hears
   * why the watch itself is failing (it keeps retrying).
   */
  watch?(onGone: (id: string, why: string) => void, onError?: (e: Error) => void): () => void;
}

export type DriverOp = "create" | "start" | "stop" | "reboot" | "reinstall" | "destroy";
