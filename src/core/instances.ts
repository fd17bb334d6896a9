import { ApiError, badParam } from "../protocol/errors.js";
import type { AccountRecord, ProjectRecord } from "../store/accounts-repo.js";
import type { Db } from "../store/db.js";
import type { DiskRecord, InstanceRecord, TaskRecord } from "../store/instances-repo.js";
import { instancesRepo as repo } from "../store/instances-repo.js";
import type { CatalogIndex, ChargeType, GpuTypeSpec, ImageSpec } from "./catalog.js";
import type { Clock } from "./clock.js";
import type { IdGen } from "./ids.js";
import { decodePassword, generatePassword } from "./passwords.js";
import { pickHost } from "./placement.js";
import type { SecretBox } from "./secrets.js";
import type { Operation, State } from "./states.js";
import { INSTANT_ALLOWED, TRANSITIONS } from "./states.js";

/** Timings from the docs and the operator's configuration. */
export interface LifecycleTimings {
  /** Per-instance operation lock TTL: 10 minutes per the docs. */
  lockTtlMs: number;
  /** How long a terminated instance stays in the recycle bin. */
  recycleRetentionMs: number;
  /** A stopped Postpay instance is released this long after it stopped: 7 days per the docs. */
  postpayReleaseMs: number;
  /** Earliest scheduled stop: now + 300 s per the docs. */
  minStopLeadMs: number;
}

export const DEFAULT_TIMINGS: LifecycleTimings = {
  lockTtlMs: 10 * 60_000,
  recycleRetentionMs: 72 * 3600_000,
  postpayReleaseMs: 7 * 24 * 3600_000,
  minStopLeadMs: 300_000,
};

export interface Scope {
  account: AccountRecord;
  project: ProjectRecord;
  region: string;
  /** The Zone the caller sent, if any; an instance elsewhere is not found. */
  zone?: string;
}

export interface CreateInput {
  zone: string;
  gpuType: string;
  gpu: number;
  cpu: number;
  memory: number;
  machineType?: string;
  minimalCpuPlatform?: string;
  imageId: string;
  disks?: Array<{ isBoot: boolean; type: string; size: number }>;
  chargeType?: string;
  quantity?: number;
  password?: string;
  name?: string;
}

export interface ResizeInput {
  cpu?: number;
  memory?: number;
  gpu?: number;
  diskId?: string;
  diskSpace?: number;
}

/** Why a system-initiated call runs (the scheduler and the release timer use the user paths). */
type Origin = "user" | "scheduler" | "release";

/**
 * The instance lifecycle. Each mutation is one transaction around one compare-and-swap on the
 * instance row (state + lock), with GPU/CPU reservations and the worker's task row in the same
 * transaction, so a crash leaves either all of it or none of it.
 */
export class InstanceService {
  constructor(
    private readonly db: Db,
    readonly catalog: CatalogIndex,
    private readonly clock: Clock,
    private readonly ids: IdGen,
    private readonly secrets: SecretBox,
    readonly timings: LifecycleTimings,
    private readonly kick: () => void,
  ) {}

  // ------------------------------------------------------------------ create

  async create(scope: Scope, input: CreateInput): Promise<string[]> {
    const zone = this.catalog.zone(input.zone);
    if (!zone || this.catalog.regionOf(input.zone)?.region !== scope.region) {
      throw badParam("Zone", `unknown zone ${input.zone} in region ${scope.region}`);
    }
    const type = this.catalog.gpuType(input.gpuType);
    const typesHere = this.catalog.catalog.gpuTypes
      .filter((g) => g.zones.includes(input.zone))
      .map((g) => g.name);
    if (!type || !type.zones.includes(input.zone)) {
      throw badParam(
        "GpuType",
        `${input.gpuType} is not sold in ${input.zone}; choose one of ${typesHere.join(", ")}`,
      );
    }
    const chargeType = (input.chargeType ?? "Month") as ChargeType;
    if (!zone.chargeTypes.includes(chargeType)) {
      throw badParam(
        "ChargeType",
        `${input.chargeType} is not offered in ${input.zone}; choose one of ${zone.chargeTypes.join(", ")}`,
      );
    }
    if (chargeType === "Spot" && !type.spot) {
      throw badParam("ChargeType", `Spot is not offered for GPU type ${type.name}`);
    }
    checkSpec(type, input.gpu, input.cpu, input.memory, { gpu: "GPU", cpu: "CPU", memory: "Memory" });
    const machineType = input.machineType ?? "G";
    if (machineType !== "G") throw badParam("MachineType", "only G is offered");
    const platform = resolvePlatform(type, input.minimalCpuPlatform);
    const image = this.catalog.image(input.imageId);
    if (!image) throw badParam("CompShareImageId", `image ${input.imageId} does not exist`);
    const disks = this.checkDisks(
      type,
      input.disks ?? [{ isBoot: true, type: type.bootDisk.types[0] ?? "CLOUD_SSD", size: 50 }],
    );
    const password =
      input.password !== undefined ? decodePassword(input.password, "Password") : generatePassword();
    const name = input.name === undefined ? `${type.name}-instance` : checkName(input.name, "Name");
    const quantity = input.quantity ?? 1;

    const now = this.clock.now();
    const id = this.ids.next(image.container ? "cpod" : "uhost");
    await this.withConflictRetry(() =>
      this.db.tx(async (tx) => {
        const count = await repo.countActive(tx, scope.account.id);
        if (count >= scope.account.instanceQuota) {
          throw new ApiError("QuotaExceeded", { quota: scope.account.instanceQuota, count });
        }
        const hostId = await this.place(tx, id, input.zone, type, input.gpu, input.cpu, input.memory);
        const rec: InstanceRecord = {
          id,
          accountId: scope.account.id,
          projectId: scope.project.id,
          region: scope.region,
          zone: input.zone,
          name,
          tag: "Default",
          remark: "",
          state: "Install",
          operation: "Create",
          operationExpiresAt: now + this.timings.lockTtlMs,
          instanceType: image.container ? "Container" : "UHost",
          machineType,
          gpuType: type.name,
          gpu: input.gpu,
          cpu: input.cpu,
          memory: input.memory,
          cpuPlatform: platform,
          withoutGpu: false,
          hostId,
          holdsCompute: true,
          chargeType,
          imageId: image.id,
          passwordSealed: this.secrets.seal(password),
          makingImage: false,
          inRecycle: false,
          recycledAt: null,
          releaseUdisk: false,
          createdAt: now,
          updatedAt: now,
          startedAt: null,
          stoppedAt: null,
          expireAt: expireAt(chargeType, quantity, now),
          schedulerStopAt: null,
          releaseAt: null,
          lastError: null,
          accessHost: null,
          accessPort: null,
        };
        await repo.insert(tx, rec);
        let dataIndex = 0;
        for (const d of disks) {
          await repo.insertDisk(tx, {
            id: this.ids.next(d.isBoot ? "bsm" : "bs"),
            accountId: scope.account.id,
            instanceId: id,
            zone: input.zone,
            isBoot: d.isBoot,
            diskType: d.type,
            sizeGB: d.size,
            drive: d.isBoot ? "/dev/vda" : `/dev/vd${String.fromCharCode(98 + dataIndex++)}`,
            state: "InUse",
            createdAt: now,
          });
        }
        await this.enqueueTransition(tx, id, "Create", now);
      }),
    );
    this.kick();
    return [id];
  }

  /** Exactly one boot disk; types and sizes within the GPU type's limits (named in the error). */
  private checkDisks(type: GpuTypeSpec, disks: Array<{ isBoot: boolean; type: string; size: number }>) {
    const boots = disks.filter((d) => d.isBoot).length;
    if (boots !== 1) throw badParam("Disks", `exactly one disk must have IsBoot=true, got ${boots}`);
    if (disks.length > 5) throw badParam("Disks", "at most 1 boot disk and 4 data disks");
    disks.forEach((d, i) => {
      const limits = d.isBoot ? type.bootDisk : type.dataDisk;
      if (!limits.types.includes(d.type)) {
        throw badParam(
          `Disks.${i}.Type`,
          `${d.type} is not offered for ${type.name}; choose one of ${limits.types.join(", ")}`,
        );
      }
      if (d.size < limits.minGB || d.size > limits.maxGB) {
        throw badParam(`Disks.${i}.Size`, `must be between ${limits.minGB} and ${limits.maxGB} GB`);
      }
    });
    return disks;
  }

  /**
   * Picks a host with room and reserves CPU/memory and specific GPUs on it. Best fit: the host with
   * the fewest free GPUs that still fits, so whole hosts stay free for 8-GPU requests.
   */
  private async place(
    tx: Db,
    instanceId: string,
    zone: string,
    type: GpuTypeSpec,
    gpu: number,
    cpu: number,
    memory: number,
  ): Promise<string> {
    await repo.lockHosts(tx, zone, type.name);
    const host = pickHost(await repo.hostsFor(tx, zone, type.name), { gpu, cpu, memory });
    if (!host) {
      throw new ApiError("ResourceSoldOut", {
        detail: `no host in ${zone} has ${gpu} free ${type.name} GPUs with ${cpu} CPU and ${memory} MB`,
      });
    }
    // The hosts are locked, so these guarded updates cannot lose; if one ever does (a Start that
    // reserved on this host without the zone lock), the whole placement is retried, not reported.
    if (!(await repo.reserveCompute(tx, host.id, cpu, memory))) throw new Conflict();
    if ((await repo.freeGpuIndexes(tx, host.id, gpu)).length < gpu) throw new Conflict();
    await this.takeGpus(tx, host.id, instanceId, gpu, type.name);
    return host.id;
  }

  private async takeGpus(
    tx: Db,
    hostId: string,
    instanceId: string,
    count: number,
    gpuType: string,
  ): Promise<void> {
    if (count === 0) return;
    const free = await repo.freeGpuIndexes(tx, hostId, count);
    if (free.length < count)
      throw new ApiError("NotEnoughGpuOnHost", { gpuType, need: count, free: free.length });
    for (const idx of free) {
      if (!(await repo.takeGpu(tx, hostId, idx, instanceId))) throw new Conflict();
    }
  }

  /** PostgreSQL may let two replicas race for one GPU; the loser's guarded update fails and we retry. */
  private async withConflictRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof Conflict) || attempt >= 4) {
          if (e instanceof Conflict)
            throw new ApiError("ResourceSoldOut", { detail: "GPUs were taken concurrently; retry" });
          throw e;
        }
      }
    }
  }

  /** Whether Create would find a host for this demand right now (same rule, same data). */
  async canPlace(
    zone: string,
    gpuType: string,
    demand: { gpu: number; cpu: number; memory: number },
  ): Promise<boolean> {
    return pickHost(await repo.hostsFor(this.db, zone, gpuType), demand) !== undefined;
  }

  /** Free GPUs per zone and type across live hosts. */
  async freeGpus(): Promise<Array<{ zone: string; gpuType: string; free: number }>> {
    const out = new Map<string, { zone: string; gpuType: string; free: number }>();
    for (const h of await repo.allHosts(this.db)) {
      if (h.retired) continue;
      const key = `${h.zone}/${h.gpuType}`;
      const e = out.get(key) ?? { zone: h.zone, gpuType: h.gpuType, free: 0 };
      e.free += h.gpusFree;
      out.set(key, e);
    }
    return [...out.values()];
  }

  // ------------------------------------------------------------------ lifecycle actions

  start(scope: Scope, id: string, opts: { withoutGpu: boolean }): Promise<void> {
    return this.transition(scope, id, "Start", {
      patch: () => ({ withoutGpu: opts.withoutGpu, holdsCompute: true, releaseAt: null }),
      inTx: async (tx, inst) => {
        const type = this.catalog.gpuType(inst.gpuType);
        if (!inst.hostId || !type)
          throw new ApiError("ResourceSoldOut", { detail: "the instance's host is gone" });
        const spec = computeOf({ ...inst, withoutGpu: opts.withoutGpu }, type);
        // Check GPUs first so the error says "GPUs" when that is what is missing.
        if (!opts.withoutGpu) {
          const free = await repo.freeGpuIndexes(tx, inst.hostId, inst.gpu);
          if (free.length < inst.gpu)
            throw new ApiError("NotEnoughGpuOnHost", {
              gpuType: inst.gpuType,
              need: inst.gpu,
              free: free.length,
            });
        }
        if (!(await repo.reserveCompute(tx, inst.hostId, spec.cpu, spec.memory))) {
          throw new ApiError("HostResourceNotEnough", {
            reason: `need ${spec.cpu} CPU and ${spec.memory} MB`,
          });
        }
        if (!opts.withoutGpu) await this.takeGpus(tx, inst.hostId, inst.id, inst.gpu, inst.gpuType);
        await repo.deleteTasks(tx, inst.id, "release");
      },
    });
  }

  stop(scope: Scope, id: string, opts: { force: boolean }, origin: Origin = "user"): Promise<void> {
    return this.transition(scope, id, "Stop", {
      check: (inst) => {
        if (inst.chargeType === "Spot" && !opts.force && origin === "user") {
          throw new ApiError("SpotStopNeedsForce", { uhostId: inst.id });
        }
        if (inst.makingImage) throw new ApiError("ImageInProgress", { uhostId: inst.id, action: "Stop" });
      },
      // A stop of any origin clears the schedule: the docs' "a manual stop clears it".
      patch: () => ({ schedulerStopAt: null }),
      inTx: async (tx, inst) => {
        await repo.deleteTasks(tx, inst.id, "scheduled-stop");
      },
    });
  }

  reboot(scope: Scope, id: string): Promise<void> {
    return this.transition(scope, id, "Reboot", {
      check: (inst) => {
        if (inst.makingImage) throw new ApiError("ImageInProgress", { uhostId: inst.id, action: "Reboot" });
      },
    });
  }

  async terminate(
    scope: Scope,
    id: string,
    opts: { releaseUDisk: boolean },
    origin: Origin = "user",
  ): Promise<void> {
    const now = this.clock.now();
    await this.transition(scope, id, "Terminate", {
      check: (inst) => {
        if (inst.makingImage && origin === "user")
          throw new ApiError("ImageInProgress", { uhostId: inst.id, action: "Terminate" });
      },
      patch: () => ({
        inRecycle: true,
        recycledAt: now,
        releaseUdisk: opts.releaseUDisk,
        schedulerStopAt: null,
        releaseAt: null,
      }),
      inTx: async (tx, inst) => {
        await repo.deleteTasks(tx, inst.id, "scheduled-stop");
        await repo.deleteTasks(tx, inst.id, "release");
        await this.schedule(tx, "purge", inst.id, now + this.timings.recycleRetentionMs, now);
      },
    });
  }

  async reinstall(scope: Scope, id: string, imageId: string, password?: string): Promise<void> {
    const image = this.catalog.image(imageId);
    if (!image) throw badParam("CompShareImageId", `image ${imageId} does not exist`);
    const newPassword = password === undefined ? undefined : decodePassword(password, "Password");
    await this.transition(scope, id, "Reinstall", {
      patch: (inst) => {
        const patch: Partial<InstanceRecord> = { imageId: image.id };
        // Docs: the password is kept, except from a VM image to a container image, where it is new.
        const toContainer = inst.instanceType === "UHost" && image.container;
        if (newPassword !== undefined) patch.passwordSealed = this.secrets.seal(newPassword);
        else if (toContainer) patch.passwordSealed = this.secrets.seal(generatePassword());
        patch.instanceType = image.container ? "Container" : "UHost";
        return patch;
      },
    });
  }

  async resize(scope: Scope, id: string, input: ResizeInput): Promise<void> {
    const compute = input.cpu !== undefined || input.memory !== undefined || input.gpu !== undefined;
    const disk = input.diskId !== undefined || input.diskSpace !== undefined;
    if (compute && disk)
      throw badParam("DiskId", "a compute resize (Cpu/Memory/Gpu) and a disk resize cannot be combined");
    if (!compute && !disk)
      throw new ApiError("MissingParams", { param: "Cpu|Memory|Gpu or DiskId+DiskSpace" });
    if (disk && (input.diskId === undefined || input.diskSpace === undefined)) {
      throw new ApiError("MissingParams", { param: input.diskId === undefined ? "DiskId" : "DiskSpace" });
    }
    await this.transition(scope, id, "Resize", {
      check: (inst) => {
        if (!compute) return;
        const type = this.catalog.gpuType(inst.gpuType);
        if (!type) throw badParam("Gpu", `GPU type ${inst.gpuType} is no longer in the catalog`);
        checkSpec(type, input.gpu ?? inst.gpu, input.cpu ?? inst.cpu, input.memory ?? inst.memory, {
          gpu: "Gpu",
          cpu: "Cpu",
          memory: "Memory",
        });
      },
      patch: (inst) =>
        compute
          ? { gpu: input.gpu ?? inst.gpu, cpu: input.cpu ?? inst.cpu, memory: input.memory ?? inst.memory }
          : {},
      inTx: async (tx, inst) => {
        if (compute) {
          // The disks live on this host, so the new spec must fit the host itself.
          const host = inst.hostId ? await repo.host(tx, inst.hostId) : undefined;
          if (
            !host ||
            host.gpuCount < inst.gpu ||
            host.cpuTotal < inst.cpu ||
            host.memoryTotal < inst.memory
          ) {
            throw new ApiError("HostResourceNotEnough", {
              reason: `host has ${host?.gpuCount ?? 0} GPUs, ${host?.cpuTotal ?? 0} CPU, ${host?.memoryTotal ?? 0} MB`,
            });
          }
          return;
        }
        const d = await repo.disk(tx, input.diskId as string);
        if (!d || d.instanceId !== inst.id || d.state !== "InUse") {
          throw badParam("DiskId", `disk ${input.diskId} is not attached to ${inst.id}`);
        }
        const type = this.catalog.gpuType(inst.gpuType);
        const limits = d.isBoot ? type?.bootDisk : type?.dataDisk;
        const size = input.diskSpace as number;
        if (size <= d.sizeGB) throw badParam("DiskSpace", `disks only grow: ${d.id} is ${d.sizeGB} GB`);
        if (limits && size > limits.maxGB) throw badParam("DiskSpace", `must be at most ${limits.maxGB} GB`);
        await repo.resizeDisk(tx, d.id, size);
      },
    });
  }

  async recover(scope: Scope, id: string): Promise<void> {
    const now = this.clock.now();
    await this.transition(scope, id, "Recover", {
      inRecycle: true,
      patch: () => ({ inRecycle: false, recycledAt: null }),
      inTx: async (tx, inst) => {
        const count = await repo.countActive(tx, inst.accountId);
        if (count > scope.account.instanceQuota) {
          throw new ApiError("QuotaExceeded", { quota: scope.account.instanceQuota, count: count - 1 });
        }
        await repo.deleteTasks(tx, inst.id, "purge");
        // The system disk was erased at terminate: a fresh one of the usual size.
        const type = this.catalog.gpuType(inst.gpuType);
        await repo.insertDisk(tx, {
          id: this.ids.next("bsm"),
          accountId: inst.accountId,
          instanceId: inst.id,
          zone: inst.zone,
          isBoot: true,
          diskType: type?.bootDisk.types[0] ?? "CLOUD_SSD",
          sizeGB: 50,
          drive: "/dev/vda",
          state: "InUse",
          createdAt: now,
        });
        await tx.run(
          "UPDATE disks SET state = 'InUse' WHERE instance_id = ? AND is_boot = 0 AND state = 'Available'",
          [inst.id],
        );
      },
    });
  }

  // ------------------------------------------------------------------ instant changes

  rename(scope: Scope, id: string, name: string): Promise<void> {
    const checked = checkName(name, "Name");
    return this.instant(scope, id, INSTANT_ALLOWED.ModifyName, () => ({ name: checked }));
  }

  /**
   * Resets the password. For a running instance, `apply` (the driver's setPassword) sets it inside
   * first, so a runtime that cannot take it leaves the stored password unchanged.
   */
  async resetPassword(
    scope: Scope,
    id: string,
    password: string,
    apply?: (id: string, plain: string) => Promise<void>,
  ): Promise<void> {
    const plain = decodePassword(password, "Password");
    const inst = await this.find(scope, id);
    const allowed =
      inst.instanceType === "Container"
        ? INSTANT_ALLOWED.ResetPasswordContainer
        : INSTANT_ALLOWED.ResetPasswordVm;
    if (
      inst.state === "Running" &&
      (allowed as readonly State[]).includes("Running") &&
      apply &&
      !inst.operation
    ) {
      await apply(id, plain);
    }
    await this.instant(
      scope,
      id,
      allowed,
      () => ({ passwordSealed: this.secrets.seal(plain) }),
      "ResetCompShareInstancePassword",
    );
  }

  async updateStopScheduler(scope: Scope, id: string, stopTimeSec: number): Promise<void> {
    const now = this.clock.now();
    const at = stopTimeSec * 1000;
    if (at < now + this.timings.minStopLeadMs) {
      throw badParam(
        "StopTime",
        `must be at least ${this.timings.minStopLeadMs / 1000} s from now (${Math.floor(now / 1000)})`,
      );
    }
    await this.instant(
      scope,
      id,
      INSTANT_ALLOWED.UpdateStopScheduler,
      () => ({ schedulerStopAt: at }),
      "UpdateCompShareStopScheduler",
      async (tx, inst) => {
        if (inst.chargeType === "Spot") throw new ApiError("StopSchedulerNotAllowed", { uhostId: inst.id });
        await repo.deleteTasks(tx, inst.id, "scheduled-stop");
        await this.schedule(tx, "scheduled-stop", inst.id, at, now);
      },
    );
    this.kick();
  }

  deleteStopScheduler(scope: Scope, id: string): Promise<void> {
    return this.instant(
      scope,
      id,
      INSTANT_ALLOWED.DeleteStopScheduler,
      () => ({ schedulerStopAt: null }),
      "DeleteCompShareStopScheduler",
      async (tx, inst) => repo.deleteTasks(tx, inst.id, "scheduled-stop"),
    );
  }

  // ------------------------------------------------------------------ reads

  async find(scope: Scope, id: string, opts: { inRecycle?: boolean } = {}): Promise<InstanceRecord> {
    const inst = await repo.get(this.db, id);
    if (!visible(inst, scope, opts.inRecycle ?? false))
      throw new ApiError("InstanceNotFound", { uhostId: id });
    return inst as InstanceRecord;
  }

  async describe(
    scope: Scope,
    f: {
      zone?: string;
      ids?: string[];
      tag?: string;
      offset: number;
      limit: number;
      withoutGpu?: boolean;
      udiskId?: string;
    },
  ): Promise<{
    total: number;
    rows: InstanceRecord[];
    disks: Map<string, DiskRecord[]>;
    gpus: Map<string, number[]>;
  }> {
    let zone = f.zone;
    if (f.udiskId) {
      const d = await repo.disk(this.db, f.udiskId);
      if (!d || d.accountId !== scope.account.id || d.state !== "Available")
        return { total: 0, rows: [], disks: new Map(), gpus: new Map() };
      if (zone && zone !== d.zone) return { total: 0, rows: [], disks: new Map(), gpus: new Map() };
      zone = d.zone;
    }
    const { total, rows } = await repo.describe(this.db, {
      projectId: scope.project.id,
      zone,
      ids: f.ids,
      tag: f.tag,
      withoutGpu: f.withoutGpu,
      offset: f.offset,
      limit: f.limit,
    });
    if (f.offset > total) {
      throw badParam("Offset", `${f.offset} is beyond the total of ${total} instances`);
    }
    const ids = rows.map((r) => r.id);
    const disks = new Map<string, DiskRecord[]>();
    for (const d of await repo.disksOf(this.db, ids)) {
      if (d.state !== "InUse") continue;
      const list = disks.get(d.instanceId as string) ?? [];
      list.push(d);
      disks.set(d.instanceId as string, list);
    }
    return { total, rows, disks, gpus: await repo.gpusOfMany(this.db, ids) };
  }

  async recycled(scope: Scope, offset: number, limit: number) {
    return repo.recycled(this.db, scope.project.id, offset, limit);
  }

  password(inst: InstanceRecord): string {
    return this.secrets.open(inst.passwordSealed);
  }

  image(inst: InstanceRecord): ImageSpec | undefined {
    return this.catalog.image(inst.imageId);
  }

  // ------------------------------------------------------------------ worker side

  /** Runs the transition's guarded finish: only the operation that holds the lock may finish it. */
  async finishTransition(
    task: TaskRecord,
    outcome: { ok: true; access?: { ip: string; sshPort: number } } | { ok: false; reason: string },
  ): Promise<void> {
    const op = task.payload.operation as Operation;
    const t = TRANSITIONS[op];
    const now = this.clock.now();
    await this.db.tx(async (tx) => {
      const inst = await repo.get(tx, task.instanceId);
      if (!inst || inst.operation !== op) return;
      const type = this.catalog.gpuType(inst.gpuType);
      const patch: Partial<InstanceRecord> = { operation: null, operationExpiresAt: null, updatedAt: now };
      const releaseCompute = async () => {
        if (inst.holdsCompute && inst.hostId && type) {
          const spec = computeOf(inst, type);
          await repo.releaseCompute(tx, inst.hostId, spec.cpu, spec.memory);
        }
        await repo.releaseGpus(tx, inst.id);
        patch.holdsCompute = false;
      };
      if (outcome.ok) {
        patch.state = t.to;
        patch.lastError = null;
        if (outcome.access) {
          patch.accessHost = outcome.access.ip;
          patch.accessPort = outcome.access.sshPort;
        }
        switch (op) {
          case "Create":
          case "Start":
            patch.startedAt = now;
            break;
          case "Stop": {
            await releaseCompute();
            patch.stoppedAt = now;
            if (inst.chargeType === "Postpay") {
              patch.releaseAt = now + this.timings.postpayReleaseMs;
              await repo.deleteTasks(tx, inst.id, "release");
              await this.schedule(tx, "release", inst.id, patch.releaseAt, now);
            }
            break;
          }
          case "Terminate":
            await repo.deleteDisks(tx, inst.id, true);
            if (inst.releaseUdisk) await repo.deleteDisks(tx, inst.id, false);
            else
              await tx.run("UPDATE disks SET state = 'Available' WHERE instance_id = ? AND is_boot = 0", [
                inst.id,
              ]);
            break;
          case "Reboot":
          case "Reinstall":
          case "Resize":
          case "Recover":
            break;
        }
      } else {
        patch.state = t.onFail;
        patch.lastError = outcome.reason.slice(0, 500);
        if (op === "Create" || op === "Start") await releaseCompute();
      }
      await repo.cas(tx, inst.id, { lockedBy: op, now }, patch);
      await repo.deleteTask(tx, task.id);
    });
  }

  /**
   * The reconciler saw an instance's runtime die or vanish out of band. A Running instance with no
   * operation in flight becomes Stopped, its GPUs and CPU/memory released, the reason in Remark.
   * An instance with an operation in flight is left to that operation (a Stop makes it die).
   */
  async observeGone(id: string, why: string): Promise<boolean> {
    const now = this.clock.now();
    return this.db.tx(async (tx) => {
      const inst = await repo.get(tx, id);
      if (!inst || inst.inRecycle || inst.state !== "Running") return false;
      const patch: Partial<InstanceRecord> = {
        state: "Stopped",
        holdsCompute: false,
        stoppedAt: now,
        updatedAt: now,
        schedulerStopAt: null,
        lastError: why,
      };
      if (!(await repo.cas(tx, id, { states: ["Running"], inRecycle: false, now }, patch))) return false;
      const type = this.catalog.gpuType(inst.gpuType);
      if (inst.holdsCompute && inst.hostId && type) {
        const spec = computeOf(inst, type);
        await repo.releaseCompute(tx, inst.hostId, spec.cpu, spec.memory);
      }
      await repo.releaseGpus(tx, id);
      await repo.deleteTasks(tx, id, "scheduled-stop");
      return true;
    });
  }

  /** Ids the store knows (not purged), for the reconciler's garbage collection. */
  async knownIds(): Promise<Set<string>> {
    return new Set((await this.db.all("SELECT id FROM instances")).map((r) => String(r.id)));
  }

  /** Disk ids the store knows, for the reconciler's garbage collection. */
  async knownDiskIds(): Promise<Set<string>> {
    return new Set((await this.db.all("SELECT id FROM disks")).map((r) => String(r.id)));
  }

  /** Running instances with no operation in flight, for the reconciler's sweep. */
  async runningIds(): Promise<string[]> {
    const rows = await this.db.all(
      "SELECT id FROM instances WHERE state = 'Running' AND in_recycle = 0 AND operation IS NULL",
    );
    return rows.map((r) => String(r.id));
  }

  /** A scheduled stop goes through the user's Stop path; a held lock is waited out, never skipped. */
  async fireScheduledStop(task: TaskRecord): Promise<"done" | "retry"> {
    const inst = await repo.get(this.db, task.instanceId);
    if (!inst || inst.inRecycle || inst.schedulerStopAt === null) return "done";
    try {
      await this.stop(this.systemScope(inst), inst.id, { force: true }, "scheduler");
      return "done";
    } catch (e) {
      if (e instanceof ApiError && e.code === "InstanceOperationInProgress") return "retry";
      if (e instanceof ApiError && e.code === "InvalidInstanceState") {
        // Not running (any more): the schedule has nothing to stop.
        if (inst.state === "Starting" || inst.state === "Rebooting" || inst.state === "Install")
          return "retry";
        await this.db.tx(async (tx) => {
          await repo.cas(tx, inst.id, { lockedBy: "any", now: this.clock.now() }, { schedulerStopAt: null });
        });
        return "done";
      }
      throw e;
    }
  }

  /** The 7-day release of a stopped Postpay instance: terminated into the recycle bin. */
  async fireRelease(task: TaskRecord): Promise<"done" | "retry"> {
    const inst = await repo.get(this.db, task.instanceId);
    if (!inst || inst.inRecycle || inst.releaseAt === null || inst.releaseAt > this.clock.now())
      return "done";
    try {
      await this.terminate(this.systemScope(inst), inst.id, { releaseUDisk: false }, "release");
      return "done";
    } catch (e) {
      if (e instanceof ApiError && e.code === "InstanceOperationInProgress") return "retry";
      if (e instanceof ApiError && e.code === "InvalidInstanceState") return "done";
      throw e;
    }
  }

  /** Purges an instance whose recycle-bin retention is over. Kept data disks stay as detached disks. */
  async purge(task: TaskRecord): Promise<InstanceRecord | undefined> {
    return this.db.tx(async (tx) => {
      const inst = await repo.get(tx, task.instanceId);
      await repo.deleteTask(tx, task.id);
      if (!inst || !inst.inRecycle) return undefined;
      if (inst.operation && (inst.operationExpiresAt ?? 0) >= this.clock.now()) throw new Conflict();
      await tx.run(
        "UPDATE disks SET instance_id = NULL WHERE instance_id = ? AND is_boot = 0 AND state = 'Available'",
        [inst.id],
      );
      await repo.deleteDisks(tx, inst.id, false);
      await repo.releaseGpus(tx, inst.id);
      await tx.run("DELETE FROM tasks WHERE instance_id = ?", [inst.id]);
      await repo.remove(tx, inst.id);
      return inst;
    });
  }

  private systemScope(inst: InstanceRecord): Scope {
    return {
      account: {
        id: inst.accountId,
        name: "",
        isRoot: false,
        instanceQuota: Number.MAX_SAFE_INTEGER,
        createdAt: 0,
      },
      project: { id: inst.projectId, accountId: inst.accountId, name: "", isDefault: false, createdAt: 0 },
      region: inst.region,
    };
  }

  // ------------------------------------------------------------------ machinery

  /** Queues a worker task in the caller's transaction (so the task exists iff the change does). */
  private async schedule(
    tx: Db,
    kind: TaskRecord["kind"],
    instanceId: string,
    dueAt: number,
    now: number,
    payload: Record<string, unknown> = {},
  ): Promise<void> {
    await repo.insertTask(tx, { id: this.ids.next("task", 12), kind, instanceId, dueAt, payload }, now);
  }

  private async enqueueTransition(tx: Db, id: string, op: Operation, now: number): Promise<void> {
    await this.schedule(tx, "transition", id, now, now, { operation: op });
  }

  /**
   * One lock-taking transition: read, check, one CAS that sets the transitional state and the lock,
   * the operation's own changes, and the worker task, all in one transaction.
   */
  private async transition(
    scope: Scope,
    id: string,
    op: Operation,
    opts: {
      inRecycle?: boolean;
      check?: (inst: InstanceRecord) => void;
      patch?: (inst: InstanceRecord) => Partial<InstanceRecord>;
      inTx?: (tx: Db, inst: InstanceRecord) => Promise<void>;
    },
  ): Promise<void> {
    const t = TRANSITIONS[op];
    const now = this.clock.now();
    const inRecycle = opts.inRecycle ?? false;
    await this.db.tx(async (tx) => {
      const inst = await repo.get(tx, id);
      if (!visible(inst, scope, inRecycle)) {
        throw new ApiError(inRecycle ? "NotInRecycle" : "InstanceNotFound", { uhostId: id });
      }
      const current = inst as InstanceRecord;
      opts.check?.(current);
      const patch: Partial<InstanceRecord> = {
        ...opts.patch?.(current),
        state: t.during,
        operation: op,
        operationExpiresAt: now + this.timings.lockTtlMs,
        updatedAt: now,
        lastError: null,
      };
      if (!(await repo.cas(tx, id, { states: t.from, inRecycle, now }, patch))) {
        throw explain((await repo.get(tx, id)) ?? current, actionName(op), t.from, now);
      }
      await opts.inTx?.(tx, { ...current, ...patch });
      await this.enqueueTransition(tx, id, op, now);
    });
    this.kick();
  }

  /** A change that finishes at once: checked against the lock and the allowed states, never taking it. */
  private async instant(
    scope: Scope,
    id: string,
    allowed: readonly State[],
    patch: (inst: InstanceRecord) => Partial<InstanceRecord>,
    action = "ModifyCompShareInstanceName",
    inTx?: (tx: Db, inst: InstanceRecord) => Promise<void>,
  ): Promise<void> {
    const now = this.clock.now();
    await this.db.tx(async (tx) => {
      const inst = await repo.get(tx, id);
      if (!visible(inst, scope, false)) throw new ApiError("InstanceNotFound", { uhostId: id });
      const current = inst as InstanceRecord;
      const p = { ...patch(current), updatedAt: now };
      if (!(await repo.cas(tx, id, { states: allowed, inRecycle: false, now }, p))) {
        throw explain((await repo.get(tx, id)) ?? current, action, allowed, now);
      }
      await inTx?.(tx, { ...current, ...p });
    });
  }
}

/** Internal: a guarded update lost a race; the whole transaction is retried or reported. */
export class Conflict extends Error {
  constructor() {
    super("conflict");
  }
}

function visible(inst: InstanceRecord | undefined, scope: Scope, inRecycle: boolean): boolean {
  return (
    inst !== undefined &&
    inst.projectId === scope.project.id &&
    inst.inRecycle === inRecycle &&
    (scope.zone === undefined || scope.zone === inst.zone)
  );
}

/** After a failed CAS: the lock wins over the state, because that is what the caller can wait for. */
function explain(inst: InstanceRecord, action: string, allowed: readonly State[], now: number): ApiError {
  if (inst.operation && (inst.operationExpiresAt ?? 0) >= now) {
    return new ApiError("InstanceOperationInProgress", {
      uhostId: inst.id,
      operation: inst.operation,
      until: new Date(inst.operationExpiresAt ?? 0).toISOString(),
    });
  }
  return new ApiError("InvalidInstanceState", {
    uhostId: inst.id,
    state: inst.state,
    action,
    allowed: allowed.join(", "),
  });
}

function actionName(op: Operation): string {
  return `${op}CompShareInstance`;
}

/** CPU/memory an instance holds on its host: the no-GPU spec when started WithoutGpu. */
export function computeOf(
  inst: Pick<InstanceRecord, "withoutGpu" | "cpu" | "memory">,
  type: GpuTypeSpec,
): { cpu: number; memory: number } {
  return inst.withoutGpu
    ? { cpu: type.withoutGpu.cpu, memory: type.withoutGpu.memory }
    : { cpu: inst.cpu, memory: inst.memory };
}

/** GPU → CPU → memory must be one of the catalog's combinations; the error lists the legal ones. */
export function checkSpec(
  type: GpuTypeSpec,
  gpu: number,
  cpu: number,
  memory: number,
  names: { gpu: string; cpu: string; memory: string },
): void {
  const forGpu = type.sizes.filter((s) => s.gpu === gpu);
  if (forGpu.length === 0) {
    throw badParam(
      names.gpu,
      `${gpu} is not offered for ${type.name}; choose one of ${[...new Set(type.sizes.map((s) => s.gpu))].join(", ")}`,
    );
  }
  const forCpu = forGpu.find((s) => s.cpu === cpu);
  if (!forCpu) {
    throw badParam(
      names.cpu,
      `${cpu} is not offered with ${gpu} × ${type.name}; choose one of ${forGpu.map((s) => s.cpu).join(", ")}`,
    );
  }
  if (memory % 1024 !== 0 || !forCpu.memory.includes(memory)) {
    throw badParam(
      names.memory,
      `${memory} MB is not offered with ${gpu} × ${type.name} and ${cpu} CPU; choose one of ${forCpu.memory.join(", ")}`,
    );
  }
}

function resolvePlatform(type: GpuTypeSpec, requested: string | undefined): string {
  const platforms = type.cpuPlatforms;
  if (!requested || requested === "Auto") return platforms[0] ?? "Auto";
  if (platforms.includes(requested)) return requested;
  const vendor = requested.endsWith("/Auto") ? requested.slice(0, -5) : undefined;
  const match = vendor ? platforms.find((p) => p.startsWith(`${vendor}/`)) : undefined;
  if (match) return match;
  throw badParam(
    "MinimalCpuPlatform",
    `${requested} is not offered for ${type.name}; choose one of Auto, ${platforms.join(", ")}`,
  );
}

const NAME_RE = /^[\p{Script=Han}A-Za-z0-9_.,:\- ]+$/u;

/** Docs: at most 63 characters of CJK, letters, digits and `_ . , : -`. */
function checkName(name: string, param: string): string {
  if (name.length === 0) throw badParam(param, "must not be empty");
  if ([...name].length > 63) throw badParam(param, "at most 63 characters");
  if (!NAME_RE.test(name))
    throw badParam(param, "only CJK characters, letters, digits and _ . , : - are allowed");
  return name;
}

function expireAt(chargeType: ChargeType, quantity: number, now: number): number | null {
  const day = 24 * 3600_000;
  switch (chargeType) {
    case "Month": {
      if (quantity === 0) {
        const d = new Date(now);
        return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      }
      return now + quantity * 30 * day;
    }
    case "Day":
      return now + Math.max(1, quantity) * day;
    case "Dynamic":
    case "Postpay":
    case "Spot":
      return null;
  }
}
