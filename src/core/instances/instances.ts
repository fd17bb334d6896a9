import { subnetIdOf, vpcIdOf } from "../../domain/addresses.js";
import { ApiError, UnsupportedByRuntime, badParam } from "../../domain/errors.js";
import type { InstancePorts, InstanceRecord } from "../../domain/records.js";
import type { State } from "../../domain/states.js";
import type { Driver } from "../../drivers/driver.js";
import type { DescribePage } from "../../store/instances-repo.js";
import type { Page, PastTheEnd } from "../paging.js";
import { checkOffset } from "../paging.js";
import type { ActionRule } from "./action-rules.js";
import { INSTANT_ALLOWED, actionRules } from "./action-rules.js";
import type { CreateInput } from "./create.js";
import { checkName, createInstances } from "./create.js";
import type { EngineDeps, OperationEngine } from "./engine.js";
import type { InputOf, OperationName, ResizeInput, StartInput } from "./operations.js";
import { decodePassword } from "./passwords.js";
import { pickHost } from "./placement.js";
import { checkPorts } from "./ports.js";
import type { RefundQuote, UpgradeTarget } from "./price-changes.js";
import { refundPrices, upgradePrice } from "./price-changes.js";
import type { Origin, Scope } from "./scope.js";
import { visible, visibleOrThrow } from "./scope.js";
import type { LifecycleTimings } from "./timings.js";

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

/** The store's page as it is: the instances, and the disks of each. */
export type DescribeResult = DescribePage;

/** The engine's dependencies, plus the engine itself and the driver (for instant changes). */
export interface InstanceServiceDeps extends EngineDeps {
  engine: OperationEngine;
  driver: Driver;
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

  /** Creates `MaxCount` identical instances in one transaction: all placed, or none. */
  create(scope: Scope, input: CreateInput): Promise<string[]> {
    return createInstances(this.d, scope, input);
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

  async reinstall(scope: Scope, id: string, imageId: string, password?: string): Promise<void> {
    const image = await this.d.images.usable(scope, imageId, { action: "ReinstallCompShareInstance" });
    const plain = password === undefined ? undefined : decodePassword(password, "Password");
    return this.operate(scope, id, "Reinstall", {
      imageId: image.id,
      container: image.container,
      password: plain,
    });
  }

  async start(scope: Scope, id: string, input: StartInput): Promise<void> {
    if (input.withoutGpu === false && input.spec !== undefined)
      throw badParam("WithoutGpuSpec", "a no-GPU spec with WithoutGpu=false; send one of them");
    return this.operate(scope, id, "Start", { ...input, movableTo: await this.movableTo(scope, id) });
  }

  /**
   * Where the driver says the instance's disks reach (asked before the start's transaction, never
   * inside it); undefined when the driver cannot move instances or cannot tell now.
   */
  private async movableTo(scope: Scope, id: string): Promise<StartInput["movableTo"]> {
    const { driver, store } = this.d;
    if (!driver.hostsFor) return undefined;
    const inst = await this.find(scope, id);
    const data = (await store.disks.ofInstances([inst.id])).filter((d) => !d.isBoot).map((d) => d.id);
    try {
      return (await driver.hostsFor(inst.id, data)) ?? "any";
    } catch {
      return undefined;
    }
  }

  resize(scope: Scope, id: string, input: ResizeInput): Promise<void> {
    const compute = input.cpu !== undefined || input.memory !== undefined || input.gpu !== undefined;
    const disk = input.diskId !== undefined || input.diskSpace !== undefined;
    const noGpu = input.withoutGpuSpec !== undefined;
    if (compute && disk)
      throw badParam("DiskId", "a compute resize (Cpu/Memory/Gpu) and a disk resize cannot be combined");
    if (noGpu && (compute || disk))
      throw badParam(
        "WithoutGpuSpec",
        "a move to no-GPU mode is sent alone, without Cpu/Memory/Gpu or a disk",
      );
    if (!compute && !disk && !noGpu)
      throw new ApiError("MissingParams", { param: "Cpu|Memory|Gpu, DiskId+DiskSpace or WithoutGpuSpec" });
    if (disk && (input.diskId === undefined || input.diskSpace === undefined)) {
      throw new ApiError("MissingParams", { param: input.diskId === undefined ? "DiskId" : "DiskSpace" });
    }
    return this.operate(scope, id, "Resize", input);
  }

  /** UpdateCompShareInstancePorts: a complete replacement, checked, then with the lock held. */
  updatePorts(scope: Scope, id: string, ports: InstancePorts): Promise<void> {
    return this.operate(scope, id, "UpdatePorts", checkPorts(ports));
  }

  /** GetCompShareInstanceUpgradePrice: what a resize to `target` costs (see price-changes.ts). */
  upgradePrice(scope: Scope, id: string, target: UpgradeTarget): Promise<{ price: number; list: number }> {
    return upgradePrice(this.d, scope, id, target);
  }

  /** GetCompShareRefundPrice: the unused prepaid part of each instance. */
  refundPrices(scope: Scope, ids: string[]): Promise<RefundQuote[]> {
    return refundPrices(this.d, scope, ids);
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
      return { total: 0, rows: [], disks: new Map() };
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
      if (!d || d.projectId !== scope.project.id || d.state !== "Available") return none();
      if (zone !== undefined && zone !== d.zone) return none();
      zone = d.zone;
    }
    const { total, rows, disks } = await this.d.store.instances.describe({
      projectId: scope.project.id,
      zone,
      ids: f.ids,
      tag: f.tag,
      withoutGpu: f.withoutGpu,
      offset: f.page.offset,
      limit: f.page.limit,
    });
    checkOffset(f.page, total, "instances", rule);
    return { total, rows, disks };
  }

  /** The project's recycle bin, newest first, by the same paging rule. */
  async recycled(scope: Scope, page: Page): Promise<{ total: number; rows: InstanceRecord[] }> {
    const result = await this.d.store.instances.recycled(scope.project.id, page.offset, page.limit);
    checkOffset(page, result.total, "instances", "error");
    return result;
  }

  /** What each Action would answer on this instance now (also in the recycle bin). */
  async actionRules(scope: Scope, id: string): Promise<ActionRule[]> {
    const found = await this.d.store.instances.get(id);
    const inst = visibleOrThrow(found, id, scope, visible(found, scope, true));
    const free = inst.hostId ? (await this.d.store.hosts.freeGpuIndexes(inst.hostId, inst.gpu)).length : 0;
    return actionRules(inst, this.d.engine.env(this.d.clock.now()), free);
  }

  password(inst: InstanceRecord): string {
    return this.d.secrets.open(inst.passwordSealed);
  }

  /** Instances of a project outside the recycle bin (GetProjectList's ResourceCount). */
  countInProject(projectId: string): Promise<number> {
    return this.d.store.instances.countInProject(projectId);
  }
}
