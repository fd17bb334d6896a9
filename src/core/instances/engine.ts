import type { Clock } from "../../domain/clock.js";
import { unixSeconds } from "../../domain/clock.js";
import { ApiError } from "../../domain/errors.js";
import type { IdGen } from "../../domain/ids.js";
import type { InstanceRecord, TaskKind, TaskRecord } from "../../domain/records.js";
import type { State } from "../../domain/states.js";
import type { Access, Driver, RuntimeSpec } from "../../drivers/driver.js";
import type { Repos, Store } from "../../store/store.js";
import type { CatalogIndex } from "../catalog/catalog.js";
import type { SpecRules } from "../catalog/spec-rules.js";
import type { InstanceEventKind } from "../events.js";
import { recordInstanceEvent } from "../events.js";
import type { ImageResolver } from "../images/resolve.js";
import type { SecretBox } from "../secrets.js";
import type { TaskResult } from "../tasks.js";
import { queueTask, queueTasks, retryDriverStep } from "../tasks.js";
import { computeOf } from "./compute.js";
import type { DriverJob, OperationDef, OperationEnv } from "./operation.js";
import type { InputOf, OperationName } from "./operations.js";
import { OPERATIONS, operationOf } from "./operations.js";
import type { Origin, Scope } from "./scope.js";
import { visibleOrThrow } from "./scope.js";
import type { LifecycleTimings } from "./timings.js";

export interface EngineDeps {
  store: Store;
  catalog: CatalogIndex;
  rules: SpecRules;
  clock: Clock;
  ids: IdGen;
  secrets: SecretBox;
  timings: LifecycleTimings;
  /** Platform and custom images by id (the driver's spec, Reinstall's hold on a custom image). */
  images: ImageResolver;
  /** Wakes the worker (a task was queued). */
  kick: () => void;
}

/**
 * Runs the operation table. `begin` takes an instance's lock with one compare-and-swap and applies
 * the entry's checks, patch and reservations with the worker's task in the same transaction;
 * `runTask` (the worker's `transition` task) calls the driver outside any transaction and then
 * finishes or rolls back with a guarded update that only the lock holder can make. A crash at any
 * point leaves either all of a step or none of it, and the task row to finish it.
 */
export class OperationEngine {
  constructor(private readonly deps: EngineDeps) {}

  /** The environment an entry's hooks see, at one instant. */
  env(now: number): OperationEnv {
    const { catalog, rules, timings, secrets, ids, images } = this.deps;
    return {
      now,
      catalog,
      rules,
      timings,
      secrets,
      images,
      newId: (prefix) => ids.next(prefix),
      schedule: (r, kind, instanceId, dueAt, payload) =>
        this.schedule(r, kind, instanceId, dueAt, now, payload),
      releaseCompute: (r, inst) => this.releaseCompute(r, inst),
    };
  }

  /** Queues a worker task in the caller's transaction. */
  async schedule(
    r: Repos,
    kind: TaskKind,
    instanceId: string,
    dueAt: number,
    now: number,
    payload: Record<string, unknown> = {},
  ): Promise<void> {
    await queueTask(r, this.deps.ids, { kind, subject: instanceId, dueAt, payload }, now);
  }

  /**
   * Queues the tasks that finish `op` on these instances, in one statement (Create takes its lock
   * by inserting the row).
   */
  enqueue(r: Repos, ids: readonly string[], op: OperationName, now: number): Promise<void> {
    return queueTasks(
      r,
      this.deps.ids,
      ids.map((id) => ({ kind: "transition", subject: id, dueAt: now, payload: { operation: op } })),
      now,
    );
  }

  /**
   * Starts an operation: read, the entry's checks, one CAS that sets the transitional state and
   * the lock, the entry's patch and reservations, and the worker task, all in one transaction.
   */
  async begin<K extends OperationName>(
    scope: Scope,
    id: string,
    op: K,
    input: InputOf<K>,
    origin: Origin = "user",
  ): Promise<void> {
    const [refused] = await this.beginMany([{ scope, id }], op, input, origin);
    if (refused) throw refused;
  }

  /**
   * {@link begin} for many instances in one transaction, with one statement per step for all of
   * them where the step allows (the read, the compare-and-swap of instances whose patch is the
   * same, the cancelled tasks, the queued transitions, the events): 100,000 scheduled stops due at
   * once are a few hundred transactions, not 100,000. Answers each instance's refusal, or
   * undefined where the operation began. A refusal changes nothing of its instance; anything else
   * thrown (a reservation refused, a deadlock) rolls back the whole batch.
   */
  async beginMany<K extends OperationName>(
    items: ReadonlyArray<{ scope: Scope; id: string }>,
    op: K,
    input: InputOf<K>,
    origin: Origin = "user",
  ): Promise<Array<ApiError | undefined>> {
    const def = OPERATIONS[op] as OperationDef<InputOf<K>>;
    const now = this.deps.clock.now();
    const env = this.env(now);
    const inRecycle = def.inRecycle ?? false;
    // One instance twice would take its lock once and queue two transitions.
    if (new Set(items.map((i) => i.id)).size !== items.length)
      throw new Error(`${op}: an instance is named twice in one batch`);
    if (items.length > BEGIN_MANY_MAX)
      throw new Error(`${op}: ${items.length} instances, at most ${BEGIN_MANY_MAX}`);
    const refusals = await this.deps.store.tx(async (r) => {
      const refused = new Map<string, ApiError>();
      const found = new Map((await r.instances.getMany(items.map((i) => i.id))).map((i) => [i.id, i]));
      // Each instance's checks; those that pass are grouped by their patch (the same patch is one
      // compare-and-swap for all of them).
      const passed: Array<{ current: InstanceRecord; patch: Partial<InstanceRecord> }> = [];
      for (const { scope, id } of items) {
        try {
          const current = visibleOrThrow(found.get(id), id, scope, inRecycle);
          // Docs: no operation while a custom image of the instance is being made (the flag is
          // checked again in the compare-and-swap, so an image job started meanwhile is not
          // overtaken).
          if (current.makingImage) throw imageInProgress(current, op);
          def.check?.(current, input, origin, env);
          const patch: Partial<InstanceRecord> = {
            ...def.begin?.(current, input, env),
            ...(def.keepsState ? {} : { state: def.during }),
            operation: op,
            operationExpiresAt: now + this.deps.timings.lockTtlMs,
            updatedAt: now,
            lastError: null,
          };
          passed.push({ current, patch });
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
          refused.set(id, e);
        }
      }
      // Moving many rows in or out of the recycle bin in one statement would update their counts
      // (migration 45's triggers) in the order the rows are visited, not in the key order that
      // keeps two such transactions from deadlocking on PostgreSQL.
      if (passed.length > 1 && passed.some((p) => "inRecycle" in p.patch))
        throw new Error(`${op} moves instances in or out of the recycle bin: one at a time`);
      if (def.locksAccount)
        for (const account of [...new Set(passed.map((p) => p.current.accountId))].sort())
          await r.instances.lockAccountForQuota(account);
      const samePatch = new Map<string, Array<{ current: InstanceRecord; patch: Partial<InstanceRecord> }>>();
      for (const p of passed) {
        // Undefined kept apart from absent: a present key is written (as NULL).
        const key = JSON.stringify(
          Object.entries(p.patch).map(([k, v]) => [k, v === undefined ? "(undefined)" : v]),
        );
        const group = samePatch.get(key);
        if (group) group.push(p);
        else samePatch.set(key, [p]);
      }
      const guard = { states: def.from, inRecycle, now, makingImage: false };
      const won: Array<{ current: InstanceRecord; patch: Partial<InstanceRecord> }> = [];
      for (const group of samePatch.values()) {
        const changed = new Set(
          await r.instances.casMany(
            group.map((p) => p.current.id),
            guard,
            (group[0] as (typeof group)[number]).patch,
          ),
        );
        for (const p of group) {
          if (changed.has(p.current.id)) {
            won.push(p);
            continue;
          }
          const again = (await r.instances.get(p.current.id)) ?? p.current;
          refused.set(
            p.current.id,
            again.makingImage
              ? imageInProgress(again, op)
              : explain(again, def.action, def.from, now, p.current),
          );
        }
      }
      for (const { current, patch } of won) {
        // The lock was taken over from an operation whose lock expired: its task is stale now and
        // will never finish it, so what it reserved is undone here (a disk left Attaching).
        if (current.operation) await operationOf(current.operation)?.undo?.(r, current, env);
        // Announced before what it reserves, so a stream reads "Start started, GPUs taken".
        await recordInstanceEvent(r, current, "operation.started", now, {
          operation: op,
          origin,
          from: current.state,
          state: patch.state ?? current.state,
        });
        await def.reserve?.(r, { ...current, ...patch }, input, env);
      }
      const ids = won.map((w) => w.current.id);
      await r.tasks.deleteKinds(ids, def.cancels ?? []);
      await this.enqueue(r, ids, op, now);
      // A scheduled stop that fires is announced with the stop, in the same transaction.
      if (origin === "scheduler")
        for (const { current } of won)
          await recordInstanceEvent(r, current, "schedule.fired", now, {
            at: secondsOrNull(current.schedulerStopAt),
          });
      return refused;
    });
    if (refusals.size < items.length) this.deps.kick();
    return items.map((i) => refusals.get(i.id));
  }

  /**
   * A change that finishes at once (rename, password, schedule): checked against the lock and the
   * allowed states in the same compare-and-swap, never taking the lock.
   */
  async instant(
    scope: Scope,
    id: string,
    action: string,
    allowed: readonly State[],
    patch: (inst: InstanceRecord) => Partial<InstanceRecord>,
    inTx?: (r: Repos, inst: InstanceRecord, now: number) => Promise<void>,
  ): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.store.tx(async (r) => {
      const current = visibleOrThrow(await r.instances.get(id), id, scope);
      const p = { ...patch(current), updatedAt: now };
      if (!(await r.instances.cas(id, { states: allowed, inRecycle: false, now }, p))) {
        throw explain((await r.instances.get(id)) ?? current, action, allowed, now, current);
      }
      await inTx?.(r, { ...current, ...p }, now);
      const event = INSTANT_EVENTS[action];
      if (event)
        await recordInstanceEvent(r, current, event.kind, now, event.data?.({ ...current, ...p }) ?? {});
    });
  }

  /**
   * The worker's `transition` task: the entry's driver step, retried with backoff on failure up to
   * `driverAttempts`, then finished (or rolled back with the reason in Remark).
   */
  async runTask(task: TaskRecord, driver: Driver): Promise<TaskResult> {
    const name = String(task.payload.operation);
    const def = operationOf(name);
    const inst = await this.deps.store.instances.get(task.instanceId);
    // Stale: the lock expired and another operation took over, or the instance is gone.
    if (!def || !inst || inst.operation !== name) return { done: true };
    let access: Access | undefined;
    try {
      access = await def.drive(driver, this.job(inst));
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (task.attempts < this.deps.timings.driverAttempts)
        return retryDriverStep(task.attempts, `${name}: ${reason}`);
      const removed = await this.finish(task, name, def, { ok: false, reason });
      return { done: true, removed, note: `${name} failed: ${reason}` };
    }
    return { done: true, removed: await this.finish(task, name, def, { ok: true, access }) };
  }

  private async finish(
    task: TaskRecord,
    name: string,
    def: OperationDef<never>,
    outcome: { ok: true; access?: Access } | { ok: false; reason: string },
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    const env = this.env(now);
    return this.deps.store.tx(async (r) => {
      const inst = await r.instances.get(task.instanceId);
      if (!inst || inst.operation !== name) return false;
      let patch: Partial<InstanceRecord> = { operation: null, operationExpiresAt: null, updatedAt: now };
      if (outcome.ok) {
        if (!def.keepsState) patch.state = def.to;
        patch.lastError = null;
        if (outcome.access) {
          patch.accessHost = outcome.access.ip;
          patch.accessPort = outcome.access.sshPort;
          patch.publishedPorts = outcome.access.ports ?? {};
        }
        if (def.releasesOnDone) Object.assign(patch, await this.releaseCompute(r, inst));
        patch = { ...patch, ...(await def.done?.(r, inst, env)) };
      } else {
        if (!def.keepsState) patch.state = def.onFail;
        patch.lastError = outcome.reason.slice(0, 500);
        if (def.releasesOnFail) Object.assign(patch, await this.releaseCompute(r, inst));
        await def.undo?.(r, inst, env);
      }
      await r.instances.cas(inst.id, { lockedBy: name, now }, patch);
      await r.tasks.delete(task.id);
      await recordInstanceEvent(
        r,
        inst,
        outcome.ok ? "operation.finished" : "operation.failed",
        now,
        outcome.ok
          ? { operation: name, state: patch.state ?? inst.state }
          : { operation: name, state: patch.state ?? inst.state, reason: patch.lastError },
      );
      return true;
    });
  }

  /** Gives back what an instance holds on its host; the patch records that it holds nothing. */
  async releaseCompute(r: Repos, inst: InstanceRecord): Promise<Partial<InstanceRecord>> {
    const type = this.deps.catalog.gpuType(inst.gpuType);
    if (inst.holdsCompute && inst.hostId && type) {
      const spec = computeOf(inst, type);
      await r.hosts.releaseCompute(inst.hostId, spec.cpu, spec.memory);
    }
    const gpus = await r.hosts.releaseGpus(inst.id);
    if (gpus.length > 0)
      await recordInstanceEvent(r, inst, "gpus.released", this.deps.clock.now(), {
        hostId: inst.hostId,
        gpus,
      });
    return { holdsCompute: false };
  }

  /** Lazy reads for a driver step. */
  job(inst: InstanceRecord): DriverJob {
    const { store, catalog, secrets, images } = this.deps;
    return {
      inst,
      gpus: async () => (inst.withoutGpu ? [] : store.hosts.gpusOf(inst.id)),
      dataDiskIds: async () =>
        (await store.disks.ofInstances([inst.id])).filter((d) => !d.isBoot).map((d) => d.id),
      spec: async (): Promise<RuntimeSpec> => {
        const image = await images.ofInstance(inst.imageId);
        const disks = await store.disks.ofInstances([inst.id]);
        const compute = computeOf(inst, catalog.gpuType(inst.gpuType));
        return {
          id: inst.id,
          image: image?.runtimeImage ?? inst.imageId,
          command: image?.runtimeCommand,
          baseImage: image?.baseImage,
          imageId: inst.imageId,
          cpu: compute.cpu,
          memoryMB: compute.memory,
          hostId: inst.hostId ?? "",
          systemDiskGB: disks.find((d) => d.isBoot)?.sizeGB,
          // A disk being attached is part of the spec its driver step applies; one being
          // detached is not.
          dataDisks: disks
            .filter((d) => !d.isBoot && (d.state === "InUse" || d.state === "Attaching"))
            .map((d) => ({ id: d.id, sizeGB: d.sizeGB })),
          password: secrets.open(inst.passwordSealed),
          ports: inst.ports,
        };
      },
    };
  }
}

/**
 * The most instances one {@link OperationEngine.beginMany} takes: its statements bind up to 14
 * values per instance for the events and 6 for the tasks, well below the bound values one
 * statement may have (32,766 on SQLite, 65,535 on PostgreSQL).
 */
export const BEGIN_MANY_MAX = 500;

/** The event each instant change records (by the Action that makes it). */
const INSTANT_EVENTS: Record<
  string,
  { kind: InstanceEventKind; data?: (inst: InstanceRecord) => Record<string, unknown> }
> = {
  ModifyCompShareInstanceName: { kind: "instance.renamed", data: (i) => ({ name: i.name }) },
  ResetCompShareInstancePassword: { kind: "instance.password-reset" },
  UpdateCompShareStopScheduler: {
    kind: "schedule.set",
    data: (i) => ({ at: secondsOrNull(i.schedulerStopAt) }),
  },
  DeleteCompShareStopScheduler: { kind: "schedule.cleared" },
};

/** The refusal of `action` while a custom image of the instance is being made (8044). */
export function imageInProgress(inst: Pick<InstanceRecord, "id">, action: string): ApiError {
  return new ApiError("ImageInProgress", { uhostId: inst.id, action });
}

/** Times in event data are Unix seconds, as everywhere on the wire. */
const secondsOrNull = (ms: number | null) => (ms === null ? null : unixSeconds(ms));

/**
 * After a failed CAS: the lock wins over the state, because that is what the caller can wait for.
 * `before` is the instance as read before the CAS: on PostgreSQL each statement reads what is
 * committed when it starts, so an operation can finish between a CAS that found it holding the
 * lock and the re-read. A re-read that would have passed means exactly that, and the caller is
 * told of the lock it met (8040, retryable), not of an allowed state (8041 "Stopped ... allowed
 * only from [Running, Stopped]").
 */
export function explain(
  inst: InstanceRecord,
  action: string,
  allowed: readonly State[],
  now: number,
  before?: InstanceRecord,
): ApiError {
  const held = (i: InstanceRecord | undefined) =>
    i?.operation && (i.operationExpiresAt ?? 0) >= now ? i : undefined;
  const locker = held(inst) ?? (allowed.includes(inst.state) && !inst.makingImage ? held(before) : undefined);
  if (locker) {
    return new ApiError("InstanceOperationInProgress", {
      uhostId: locker.id,
      operation: locker.operation as string,
      until: new Date(locker.operationExpiresAt ?? 0).toISOString(),
    });
  }
  return new ApiError("InvalidInstanceState", {
    uhostId: inst.id,
    state: inst.state,
    action,
    allowed: allowed.join(", "),
  });
}
