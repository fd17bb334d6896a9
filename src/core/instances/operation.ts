import type { TaskKind } from "../../domain/records.js";
import type { InstanceRecord } from "../../domain/records.js";
import type { State } from "../../domain/states.js";
import type { Access, Driver, RuntimeSpec } from "../../drivers/driver.js";
import type { Repos } from "../../store/store.js";
import type { CatalogIndex } from "../catalog/catalog.js";
import type { SpecRules } from "../catalog/spec-rules.js";
import type { ImageResolver } from "../images/resolve.js";
import type { SecretBox } from "../secrets.js";
import type { Origin } from "./scope.js";
import type { LifecycleTimings } from "./timings.js";

/** What an operation's hooks may use; the engine builds one per transaction. */
export interface OperationEnv {
  readonly now: number;
  readonly catalog: CatalogIndex;
  readonly rules: SpecRules;
  readonly timings: LifecycleTimings;
  readonly secrets: SecretBox;
  readonly images: ImageResolver;
  newId(prefix: string): string;
  /** Queues a task in the caller's transaction, so the task exists iff the change does. */
  schedule(
    r: Repos,
    kind: TaskKind,
    instanceId: string,
    dueAt: number,
    payload?: Record<string, unknown>,
  ): Promise<void>;
  /** Gives back the GPUs and CPU/memory the instance holds on its host (sets holdsCompute false). */
  releaseCompute(r: Repos, inst: InstanceRecord): Promise<Partial<InstanceRecord>>;
}

/** What the driver step of an operation gets: the instance and lazy reads of what it needs. */
export interface DriverJob {
  readonly inst: InstanceRecord;
  /** The runtime spec (image, command, compute, data disks, password). */
  spec(): Promise<RuntimeSpec>;
  /** The GPU indexes the instance holds on its host (none when started without GPU). */
  gpus(): Promise<number[]>;
  /** Ids of its data disks. */
  dataDiskIds(): Promise<string[]>;
}

/**
 * One long-running operation as data: where it may start, what it shows while it runs, what the
 * driver does, where it ends and where it rolls back to, and what it reserves and releases. The
 * engine applies `check`, `begin` and `reserve` with the lock in one transaction; the worker runs
 * `drive` outside any transaction; the engine then applies `done` (or the rollback) with a guarded
 * update only the lock holder can make.
 */
export type OperationDef<I = Record<string, never>> = OperationCore<I> & (Moving | InPlace);

/** An operation that moves the instance through states. */
interface Moving {
  keepsState?: false;
  /** Shown while it runs. */
  during: State;
  /** Once the driver has done its part. */
  to: State;
  /** If the driver fails for good; the reason goes to Remark. */
  onFail: State;
}

/**
 * An operation that holds only the lock: the instance keeps the state it had (one of `from`) while
 * it runs and after (a disk attached to a running instance keeps it Running).
 */
interface InPlace {
  keepsState: true;
}

interface OperationCore<I> {
  /** The wire Action, named in wrong-state errors. */
  action: string;
  /** States it may start from (checked in the compare-and-swap). */
  from: readonly State[];
  /** Acts on an instance in the recycle bin (and takes it out). */
  inRecycle?: boolean;
  /**
   * Its `reserve` checks an account-wide quota: the account is locked before the compare-and-swap,
   * whose row changes lock the instance counts, so the lock order is account → counts as in Create
   * (locking the account after them could deadlock with a Create, and not locking it lets a Create
   * of the same account on another replica pass the same last slot).
   */
  locksAccount?: boolean;
  /**
   * Refusals that depend on the instance (spot needs Force, spec rules). An image being made
   * refuses every operation; the engine checks that itself.
   */
  check?(inst: InstanceRecord, input: I, origin: Origin, env: OperationEnv): void;
  /** Fields set together with the lock. */
  begin?(inst: InstanceRecord, input: I, env: OperationEnv): Partial<InstanceRecord>;
  /**
   * Tasks of these kinds it cancels as it begins (a Stop, the instance's scheduled stop), after
   * `reserve`, in one statement for every instance of a batch.
   */
  cancels?: readonly TaskKind[];
  /** Reservations and task changes in the same transaction (`inst` already carries `begin`'s patch). */
  reserve?(r: Repos, inst: InstanceRecord, input: I, env: OperationEnv): Promise<void>;
  /** The driver's part; says how the instance is reached when it starts it. */
  drive(driver: Driver, job: DriverJob): Promise<Access | undefined>;
  /** Changes made when the driver succeeded, in the finishing transaction. */
  done?(r: Repos, inst: InstanceRecord, env: OperationEnv): Promise<Partial<InstanceRecord> | undefined>;
  /** Undoes what `reserve` did when the driver failed for good, in the rollback's transaction. */
  undo?(r: Repos, inst: InstanceRecord, env: OperationEnv): Promise<void>;
  /** Success gives back the host's GPUs and CPU/memory (a stop). */
  releasesOnDone?: boolean;
  /** Failure gives back what `reserve` took (a create or a start). */
  releasesOnFail?: boolean;
}

/** Declares an entry of the operation table with its input type. */
export function defineOperation<I>(def: OperationDef<I>): OperationDef<I> {
  return def;
}
