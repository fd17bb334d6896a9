import { subnetIdOf, vpcIdOf } from "../../domain/addresses.js";
import type { ChargeType, GpuTypeSpec, ImageSpec } from "../../domain/catalog.js";
import type { Clock } from "../../domain/clock.js";
import { ApiError, Conflict, UnsupportedByRuntime, badParam } from "../../domain/errors.js";
import type { IdGen } from "../../domain/ids.js";
import type { DiskRecord, InstanceRecord } from "../../domain/records.js";
import { STATES } from "../../domain/states.js";
import type { State } from "../../domain/states.js";
import type { Driver } from "../../drivers/driver.js";
import type { Repos, Store } from "../../store/store.js";
import type { CatalogIndex } from "../catalog/catalog.js";
import type { DiskAsked, SpecRules } from "../catalog/spec-rules.js";
import { recordInstanceEvent } from "../events.js";
import type { Page, PastTheEnd } from "../paging.js";
import { checkOffset } from "../paging.js";
import type { SecretBox } from "../secrets.js";
import type { OperationEngine } from "./engine.js";
import type { InputOf, OperationName, ResizeInput } from "./operations.js";
import { takeGpus } from "./operations.js";
import { decodePassword, generatePassword } from "./passwords.js";
import { pickHost } from "./placement.js";
import type { Origin, Scope } from "./scope.js";
import { visibleOrThrow } from "./scope.js";
import type { LifecycleTimings } from "./timings.js";

export interface CreateInput {
  zone: string;
  gpuType: string;
  gpu: number;
  cpu: number;
  memory: number;
  machineType?: string;
  minimalCpuPlatform?: string;
  imageId: string;
  disks?: DiskAsked[];
  chargeType?: string;
  quantity?: number;
  /** Base64, as the wire carries it. */
  password?: string;
  name?: string;
}

export interface DescribeInput {
  zone?: string;
  ids?: string[];
  tag?: string;
  vpcId?: string;
  subnetId?: string;
  /** Only instances running without GPU. */
  withoutGpu?: boolean;
  /** Only instances a detached disk could be attached to (its zone). */
  udiskId?: string;
  page: Page;
}

export interface DescribeResult {
  total: number;
  rows: InstanceRecord[];
  disks: Map<string, DiskRecord[]>;
  gpus: Map<string, number[]>;
}

/** Instant (lock-checked, not lock-holding) changes and the states they are allowed from. */
const INSTANT_ALLOWED = {
  ModifyName: STATES,
  ResetPasswordVm: ["Stopped"],
  ResetPasswordContainer: ["Stopped", "Running"],
  UpdateStopScheduler: ["Install", "Starting", "Running", "Rebooting"],
  DeleteStopScheduler: STATES,
} as const satisfies Record<string, readonly State[]>;

const NAME_RE = /^[\p{Script=Han}A-Za-z0-9_.,:\- ]+$/u;

/** Docs: at most 63 characters of CJK, letters, digits and `_ . , : -`. */
export function checkName(name: string, param: string): string {
  if (name.length === 0) throw badParam(param, "must not be empty");
  if ([...name].length > 63) throw badParam(param, "at most 63 characters");
  if (!NAME_RE.test(name))
    throw badParam(param, "only CJK characters, letters, digits and _ . , : - are allowed");
  return name;
}

export interface InstanceServiceDeps {
  store: Store;
  engine: OperationEngine;
  catalog: CatalogIndex;
  rules: SpecRules;
  clock: Clock;
  ids: IdGen;
  secrets: SecretBox;
  timings: LifecycleTimings;
  driver: Driver;
  kick: () => void;
}

/**
 * The instance lifecycle as the actions see it: Create (placement and the first lock), the
 * operations of the table, the instant changes, and the reads.
 */
export class InstanceService {
  constructor(private readonly d: InstanceServiceDeps) {}

  get timings(): LifecycleTimings {
    return this.d.timings;
  }

  // ------------------------------------------------------------------ create

  async create(scope: Scope, input: CreateInput): Promise<string[]> {
    const { rules } = this.d;
    rules.zone(scope.region, input.zone);
    const type = rules.gpuType(input.zone, input.gpuType);
    const chargeType = rules.chargeType(input.zone, type, input.chargeType ?? "Month");
    rules.size(type, input.gpu, input.cpu, input.memory, { gpu: "GPU", cpu: "CPU", memory: "Memory" });
    const machineType = input.machineType ?? "G";
    if (machineType !== "G") throw badParam("MachineType", "only G is offered");
    const platform = rules.platform(type, input.minimalCpuPlatform);
    const image = rules.image(input.imageId);
    const disks = input.disks ?? [{ ...rules.defaultBootDisk(type), param: "Disks.0" }];
    rules.disks(type, disks, { exactlyOneBoot: true });
    const password =
      input.password !== undefined ? decodePassword(input.password, "Password") : generatePassword();
    const name = input.name === undefined ? `${type.name}-instance` : checkName(input.name, "Name");
    const quantity = input.quantity ?? 1;

    const now = this.d.clock.now();
    const id = this.d.ids.next(image.container ? "cpod" : "uhost");
    await withConflictRetry(() =>
      this.d.store.tx(async (r) => {
        const count = await r.instances.countActive(scope.account.id);
        if (count >= scope.account.instanceQuota) {
          throw new ApiError("QuotaExceeded", { quota: scope.account.instanceQuota, count });
        }
        const owner = { id, accountId: scope.account.id, projectId: scope.project.id };
        await recordInstanceEvent(r, owner, "instance.created", now, {
          name,
          zone: input.zone,
          state: "Install",
        });
        await recordInstanceEvent(r, owner, "operation.started", now, {
          operation: "Create",
          origin: "user",
          state: "Install",
        });
        const hostId = await this.place(r, owner, input.zone, type, input, now);
        await r.instances.insert({
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
          operationExpiresAt: now + this.d.timings.lockTtlMs,
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
          passwordSealed: this.d.secrets.seal(password),
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
        });
        let dataIndex = 0;
        for (const disk of disks) {
          await r.disks.insert({
            id: this.d.ids.next(disk.isBoot ? "bsm" : "bs"),
            accountId: scope.account.id,
            instanceId: id,
            zone: input.zone,
            isBoot: disk.isBoot,
            diskType: disk.type ?? (disk.isBoot ? type.bootDisk : type.dataDisk).types[0] ?? "CLOUD_SSD",
            sizeGB: disk.size ?? (disk.isBoot ? type.bootDisk : type.dataDisk).minGB,
            drive: disk.isBoot ? "/dev/vda" : `/dev/vd${String.fromCharCode(98 + dataIndex++)}`,
            state: "InUse",
            createdAt: now,
          });
        }
        await this.d.engine.enqueue(r, id, "Create", now);
      }),
    );
    this.d.kick();
    return [id];
  }

  /**
   * Picks a host with room and reserves CPU/memory and specific GPUs on it, with the zone's hosts
   * locked so concurrent creates queue up instead of racing for the same best-fit host.
   */
  private async place(
    r: Repos,
    owner: { id: string; accountId: string; projectId: string },
    zone: string,
    type: GpuTypeSpec,
    demand: { gpu: number; cpu: number; memory: number },
    now: number,
  ): Promise<string> {
    await r.hosts.lockFor(zone, type.name);
    const host = pickHost(await r.hosts.roomFor(zone, type.name), demand);
    if (!host) {
      throw new ApiError("ResourceSoldOut", {
        detail: `no host in ${zone} has ${demand.gpu} free ${type.name} GPUs with ${demand.cpu} CPU and ${demand.memory} MB`,
      });
    }
    // The hosts are locked, so these guarded updates cannot lose; if one ever does (a Start that
    // reserved on this host without the zone lock), the whole placement is retried, not reported.
    if (!(await r.hosts.reserveCompute(host.id, demand.cpu, demand.memory))) throw new Conflict();
    if ((await r.hosts.freeGpuIndexes(host.id, demand.gpu)).length < demand.gpu) throw new Conflict();
    await takeGpus(r, { ...owner, hostId: host.id, gpu: demand.gpu, gpuType: type.name }, now);
    return host.id;
  }

  /** Whether Create would find a host for this demand right now (same rule, same data). */
  async canPlace(zone: string, gpuType: string, demand: { gpu: number; cpu: number; memory: number }) {
    return pickHost(await this.d.store.hosts.roomFor(zone, gpuType), demand) !== undefined;
  }

  /** Free GPUs per zone and type across live hosts. */
  async freeGpus(): Promise<Array<{ zone: string; gpuType: string; free: number }>> {
    const out = new Map<string, { zone: string; gpuType: string; free: number }>();
    for (const h of await this.d.store.hosts.all()) {
      if (h.retired) continue;
      const key = `${h.zone}/${h.gpuType}`;
      const e = out.get(key) ?? { zone: h.zone, gpuType: h.gpuType, free: 0 };
      e.free += h.gpusFree;
      out.set(key, e);
    }
    return [...out.values()];
  }

  // ------------------------------------------------------------------ operations

  /** Starts one operation of the table on an instance (see operations.ts). */
  operate<K extends OperationName>(
    scope: Scope,
    id: string,
    op: K,
    input: InputOf<K>,
    origin: Origin = "user",
  ): Promise<void> {
    return this.d.engine.begin(scope, id, op, input, origin);
  }

  reinstall(scope: Scope, id: string, imageId: string, password?: string): Promise<void> {
    this.d.rules.image(imageId);
    const plain = password === undefined ? undefined : decodePassword(password, "Password");
    return this.operate(scope, id, "Reinstall", { imageId, password: plain });
  }

  resize(scope: Scope, id: string, input: ResizeInput): Promise<void> {
    const compute = input.cpu !== undefined || input.memory !== undefined || input.gpu !== undefined;
    const disk = input.diskId !== undefined || input.diskSpace !== undefined;
    if (compute && disk)
      throw badParam("DiskId", "a compute resize (Cpu/Memory/Gpu) and a disk resize cannot be combined");
    if (!compute && !disk)
      throw new ApiError("MissingParams", { param: "Cpu|Memory|Gpu or DiskId+DiskSpace" });
    if (disk && (input.diskId === undefined || input.diskSpace === undefined)) {
      throw new ApiError("MissingParams", { param: input.diskId === undefined ? "DiskId" : "DiskSpace" });
    }
    return this.operate(scope, id, "Resize", input);
  }

  recover(scope: Scope, id: string): Promise<void> {
    return this.operate(scope, id, "Recover", { quota: scope.account.instanceQuota });
  }

  // ------------------------------------------------------------------ instant changes

  rename(scope: Scope, id: string, name: string): Promise<void> {
    const checked = checkName(name, "Name");
    return this.d.engine.instant(
      scope,
      id,
      "ModifyCompShareInstanceName",
      INSTANT_ALLOWED.ModifyName,
      () => ({
        name: checked,
      }),
    );
  }

  /**
   * Resets the password. A running container instance gets it set inside by the driver first, so
   * a runtime that cannot take it leaves the stored password unchanged (and says why).
   */
  async resetPassword(scope: Scope, id: string, password: string): Promise<void> {
    const plain = decodePassword(password, "Password");
    const inst = await this.find(scope, id);
    const allowed =
      inst.instanceType === "Container"
        ? INSTANT_ALLOWED.ResetPasswordContainer
        : INSTANT_ALLOWED.ResetPasswordVm;
    const { driver } = this.d;
    if (
      inst.state === "Running" &&
      (allowed as readonly State[]).includes("Running") &&
      driver.setPassword &&
      !inst.operation
    ) {
      try {
        await driver.setPassword(id, plain);
      } catch (e) {
        if (e instanceof UnsupportedByRuntime)
          throw new ApiError("PasswordNotApplicable", { uhostId: id, reason: e.message });
        throw new ApiError("DriverFailed", { uhostId: id, reason: (e as Error).message });
      }
    }
    await this.d.engine.instant(scope, id, "ResetCompShareInstancePassword", allowed, () => ({
      passwordSealed: this.d.secrets.seal(plain),
    }));
  }

  async updateStopScheduler(scope: Scope, id: string, stopTimeSec: number): Promise<void> {
    const now = this.d.clock.now();
    const at = stopTimeSec * 1000;
    if (at < now + this.d.timings.minStopLeadMs) {
      throw badParam(
        "StopTime",
        `must be at least ${this.d.timings.minStopLeadMs / 1000} s from now (${Math.floor(now / 1000)})`,
      );
    }
    await this.d.engine.instant(
      scope,
      id,
      "UpdateCompShareStopScheduler",
      INSTANT_ALLOWED.UpdateStopScheduler,
      () => ({ schedulerStopAt: at }),
      async (r, inst, txNow) => {
        if (inst.chargeType === "Spot") throw new ApiError("StopSchedulerNotAllowed", { uhostId: inst.id });
        await r.tasks.deleteOf(inst.id, "scheduled-stop");
        await this.d.engine.schedule(r, "scheduled-stop", inst.id, at, txNow);
      },
    );
    this.d.kick();
  }

  deleteStopScheduler(scope: Scope, id: string): Promise<void> {
    return this.d.engine.instant(
      scope,
      id,
      "DeleteCompShareStopScheduler",
      INSTANT_ALLOWED.DeleteStopScheduler,
      () => ({ schedulerStopAt: null }),
      (r, inst) => r.tasks.deleteOf(inst.id, "scheduled-stop"),
    );
  }

  // ------------------------------------------------------------------ reads

  async find(scope: Scope, id: string, opts: { inRecycle?: boolean } = {}): Promise<InstanceRecord> {
    return visibleOrThrow(await this.d.store.instances.get(id), id, scope, opts.inRecycle ?? false);
  }

  /** Describe's filters, then the one paging rule (Offset past the total is an error, per docs). */
  async describe(scope: Scope, f: DescribeInput): Promise<DescribeResult> {
    const rule: PastTheEnd = "error";
    const none = (): DescribeResult => {
      checkOffset(f.page, 0, "instances", rule);
      return { total: 0, rows: [], disks: new Map(), gpus: new Map() };
    };
    let zone = f.zone;
    // A project has one VPC and one subnet per zone: both filters narrow to a zone or to nothing.
    if (f.vpcId !== undefined && f.vpcId !== vpcIdOf(scope.project.id)) return none();
    if (f.subnetId !== undefined) {
      const match = this.d.catalog.allZones().find((z) => subnetIdOf(scope.project.id, z) === f.subnetId);
      if (!match || (zone !== undefined && zone !== match)) return none();
      zone = match;
    }
    if (f.udiskId !== undefined) {
      const d = await this.d.store.disks.get(f.udiskId);
      if (!d || d.accountId !== scope.account.id || d.state !== "Available") return none();
      if (zone !== undefined && zone !== d.zone) return none();
      zone = d.zone;
    }
    const { total, rows } = await this.d.store.instances.describe({
      projectId: scope.project.id,
      zone,
      ids: f.ids,
      tag: f.tag,
      withoutGpu: f.withoutGpu,
      offset: f.page.offset,
      limit: f.page.limit,
    });
    checkOffset(f.page, total, "instances", rule);
    const ids = rows.map((r) => r.id);
    const disks = new Map<string, DiskRecord[]>();
    for (const d of await this.d.store.disks.ofInstances(ids)) {
      if (d.state !== "InUse") continue;
      const list = disks.get(d.instanceId as string) ?? [];
      list.push(d);
      disks.set(d.instanceId as string, list);
    }
    return { total, rows, disks, gpus: await this.d.store.hosts.gpusOfMany(ids) };
  }

  /** The project's recycle bin, newest first, by the same paging rule. */
  async recycled(scope: Scope, page: Page): Promise<{ total: number; rows: InstanceRecord[] }> {
    const result = await this.d.store.instances.recycled(scope.project.id, page.offset, page.limit);
    checkOffset(page, result.total, "instances", "error");
    return result;
  }

  password(inst: InstanceRecord): string {
    return this.d.secrets.open(inst.passwordSealed);
  }

  image(inst: InstanceRecord): ImageSpec | undefined {
    return this.d.catalog.image(inst.imageId);
  }

  /** Instances of a project outside the recycle bin (GetProjectList's ResourceCount). */
  countInProject(projectId: string): Promise<number> {
    return this.d.store.instances.countInProject(projectId);
  }
}

/** PostgreSQL may let two replicas race for one GPU; the loser's guarded update fails and we retry. */
async function withConflictRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof Conflict)) throw e;
      if (attempt >= 4)
        throw new ApiError("ResourceSoldOut", { detail: "GPUs were taken concurrently; retry" });
    }
  }
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
