import type { GpuTypeSpec } from "../../domain/catalog.js";
import { ApiError, Conflict, badParam } from "../../domain/errors.js";
import type { InstanceRecord } from "../../domain/records.js";
import type { Repos } from "../../store/store.js";
import { DEFAULT_BOOT_GB } from "../catalog/spec-rules.js";
import { attachDisk, detachDisk, growDisk, resizeDisk } from "../disks/disk-operations.js";
import { nextDrive } from "../disks/disk-rules.js";
import { recordDiskEvent, recordInstanceEvent } from "../events.js";
import { DEFAULT_NO_GPU_SPEC, computeOf, noGpuSpec, noGpuSpecs } from "./compute.js";
import type { OperationDef, OperationEnv } from "./operation.js";
import { defineOperation } from "./operation.js";
import { generatePassword } from "./passwords.js";
import { pickHost } from "./placement.js";
import { updatePorts } from "./ports.js";

/**
 * Create's lock is taken by inserting the row (see InstanceService.create), so it has no `from`;
 * the driver provisions and starts it.
 */
const create = defineOperation<Record<string, never>>({
  action: "CreateCompShareInstance",
  from: [],
  during: "Install",
  to: "Running",
  onFail: "Install Fail",
  releasesOnFail: true,
  async drive(driver, job) {
    const spec = await job.spec();
    await driver.create(spec);
    return driver.start(spec, await job.gpus());
  },
  async done(_r, _inst, env) {
    return { startedAt: env.now };
  },
});

export interface StartInput {
  /** `WithoutGpu`: true = without GPU, false = with, absent = as the instance's mode says. */
  withoutGpu?: boolean;
  /** `WithoutGpuSpec`: start without GPU with this named spec. */
  spec?: string;
  /**
   * Not from the wire: where the driver says the instance's disks can be used from ("any" host,
   * or these), so a start may move it when its own host has no room. Absent: it stays.
   */
  movableTo?: "any" | string[];
}

/**
 * Whether a Start runs without GPU and with which spec: what the call says, else the no-GPU mode a
 * Resize put the instance in, else with its GPUs.
 */
function startMode(inst: InstanceRecord, input: StartInput): { withoutGpu: boolean; spec: string | null } {
  const withoutGpu = input.withoutGpu ?? (input.spec !== undefined || inst.noGpuMode !== null);
  return { withoutGpu, spec: withoutGpu ? (input.spec ?? inst.noGpuMode ?? DEFAULT_NO_GPU_SPEC) : null };
}

/** The named no-GPU spec must be one the instance's type offers. */
function checkNoGpuSpec(inst: InstanceRecord, name: string, env: OperationEnv): void {
  const type = env.catalog.gpuType(inst.gpuType);
  if (type && noGpuSpec(type, name) === undefined)
    throw badParam(
      "WithoutGpuSpec",
      `${name} is not a no-GPU spec of ${inst.gpuType}; choose one of ${Object.keys(noGpuSpecs(type)).join(", ")}`,
    );
}

/** Start re-acquires GPUs on the instance's own host (its disks live there), or runs without. */
const start = defineOperation<StartInput>({
  action: "StartCompShareInstance",
  from: ["Stopped"],
  during: "Starting",
  to: "Running",
  onFail: "Stopped",
  releasesOnFail: true,
  check(inst, input, _origin, env) {
    const mode = startMode(inst, input);
    if (mode.spec !== null) checkNoGpuSpec(inst, mode.spec, env);
  },
  begin: (inst, input) => {
    const mode = startMode(inst, input);
    return { withoutGpu: mode.withoutGpu, withoutGpuSpec: mode.spec, holdsCompute: true, releaseAt: null };
  },
  async reserve(r, placed, input, env) {
    const type = env.catalog.gpuType(placed.gpuType);
    if (!placed.hostId || !type)
      throw new ApiError("ResourceSoldOut", { detail: "the instance's host is gone" });
    const inst = input.movableTo ? await moveIfNoRoom(r, placed, input.movableTo, type, env) : placed;
    const hostId = inst.hostId as string;
    // A host that left (a node deleted, NotReady or cordoned; one taken out of the catalog) takes
    // nothing, with or without GPUs: say so rather than blame its CPU or GPUs.
    if ((await r.hosts.get(hostId))?.retired !== false)
      throw new ApiError("ResourceSoldOut", {
        detail: input.movableTo
          ? `the instance's host ${hostId} is not available now, and no host its disks reach has room`
          : `the instance's host ${hostId} is not available now, and its disks live there`,
      });
    // GPUs first, so the error says "GPUs" when that is what is missing.
    if (!inst.withoutGpu) {
      const free = await r.hosts.freeGpuIndexes(hostId, inst.gpu);
      if (free.length < inst.gpu)
        throw new ApiError("NotEnoughGpuOnHost", {
          gpuType: inst.gpuType,
          need: inst.gpu,
          free: free.length,
        });
    }
    const spec = computeOf(inst, type);
    if (!(await r.hosts.reserveCompute(hostId, spec.cpu, spec.memory)))
      throw new ApiError("HostResourceNotEnough", { reason: `need ${spec.cpu} CPU and ${spec.memory} MB` });
    if (!inst.withoutGpu) await takeGpus(r, inst, env.now);
  },
  cancels: ["release"],
  drive: async (driver, job) => driver.start(await job.spec(), await job.gpus()),
  async done(_r, _inst, env) {
    return { startedAt: env.now };
  },
});

/** Stop gives the GPUs back; a stopped Postpay instance is released 7 days later (docs). */
const stop = defineOperation<{ force: boolean }>({
  action: "StopCompShareInstance",
  from: ["Running"],
  during: "Stopping",
  to: "Stopped",
  onFail: "Running",
  releasesOnDone: true,
  check(inst, input, origin) {
    if (inst.chargeType === "Spot" && !input.force && origin === "user")
      throw new ApiError("SpotStopNeedsForce", { uhostId: inst.id });
  },
  // A stop of any origin clears the schedule: the docs' "a manual stop clears it".
  begin: () => ({ schedulerStopAt: null }),
  cancels: ["scheduled-stop"],
  async drive(driver, job) {
    await driver.stop(job.inst.id);
    return undefined;
  },
  async done(r, inst, env) {
    if (inst.chargeType !== "Postpay") return { stoppedAt: env.now };
    const releaseAt = env.now + env.timings.postpayReleaseMs;
    await r.tasks.deleteOf(inst.id, "release");
    await env.schedule(r, "release", inst.id, releaseAt);
    return { stoppedAt: env.now, releaseAt };
  },
});

const reboot = defineOperation<Record<string, never>>({
  action: "RebootCompShareInstance",
  from: ["Running"],
  during: "Rebooting",
  to: "Running",
  onFail: "Running",
  async drive(driver, job) {
    await driver.reboot(job.inst.id);
    return undefined;
  },
});

/** Terminate moves the instance into the recycle bin at once; the driver erases its system disk. */
const terminate = defineOperation<{ releaseUDisk: boolean }>({
  action: "TerminateCompShareInstance",
  from: ["Stopped", "Install Fail"],
  during: "Stopped",
  to: "Stopped",
  onFail: "Stopped",
  begin: (_inst, input, env) => ({
    inRecycle: true,
    recycledAt: env.now,
    releaseUdisk: input.releaseUDisk,
    schedulerStopAt: null,
    releaseAt: null,
  }),
  cancels: ["scheduled-stop", "release"],
  async reserve(r, inst, _input, env) {
    await env.schedule(r, "purge", inst.id, env.now + env.timings.recycleRetentionMs);
  },
  async drive(driver, job) {
    await driver.destroy(job.inst.id, {
      releaseDataDisks: job.inst.releaseUdisk,
      dataDiskIds: await job.dataDiskIds(),
    });
    return undefined;
  },
  async done(r, inst, env) {
    await r.disks.deleteOf(inst.id, true);
    if (inst.releaseUdisk) {
      await r.disks.deleteOf(inst.id, false);
      return undefined;
    }
    // Kept data disks are detached disks like any other (DescribeCompshareDisk lists them), marked
    // for Recover to give back unless someone attaches them elsewhere first.
    for (const d of await r.disks.ofInstances([inst.id])) {
      await r.disks.update(
        { id: d.id, instanceId: inst.id, dataOnly: true },
        { state: "Available", instanceId: null, drive: "", keptFor: inst.id },
      );
      await recordDiskEvent(r, d, "disk.detached", env.now, { uhostId: inst.id, kept: true });
    }
    return undefined;
  },
});

/** What Reinstall needs of its image, resolved (platform or custom) before the transaction. */
export interface ReinstallInput {
  imageId: string;
  container: boolean;
  password?: string;
}

/** Reinstall: a new system disk from the image; the password is kept unless given (docs). */
const reinstall = defineOperation<ReinstallInput>({
  action: "ReinstallCompShareInstance",
  from: ["Stopped", "Install Fail"],
  during: "Reinstalling",
  to: "Stopped",
  onFail: "Stopped",
  begin(inst, input, env) {
    const patch: Partial<InstanceRecord> = {
      imageId: input.imageId,
      instanceType: input.container ? "Container" : "UHost",
    };
    // Docs: the password is kept, except from a VM image to a container image, where it is new.
    const toContainer = inst.instanceType === "UHost" && input.container;
    if (input.password !== undefined) patch.passwordSealed = env.secrets.seal(input.password);
    else if (toContainer) patch.passwordSealed = env.secrets.seal(generatePassword());
    return patch;
  },
  // A custom image must still be there when the lock is taken (a delete waits for this, or wins).
  reserve: (r, _inst, input, env) => env.images.hold(r, input.imageId),
  async drive(driver, job) {
    await driver.reinstall(await job.spec());
    return undefined;
  },
});

export interface ResizeInput {
  cpu?: number;
  memory?: number;
  gpu?: number;
  diskId?: string;
  diskSpace?: number;
  /** Put the stopped instance in no-GPU mode with this named spec (its next Start runs without GPU). */
  withoutGpuSpec?: string;
}

const isCompute = (input: ResizeInput) =>
  input.cpu !== undefined || input.memory !== undefined || input.gpu !== undefined;

/** Resize of a stopped instance: a new legal spec that fits its host, or a disk grown. */
const resize = defineOperation<ResizeInput>({
  action: "ResizeCompShareInstance",
  from: ["Stopped"],
  during: "Resizing",
  to: "Stopped",
  onFail: "Stopped",
  check(inst, input, _origin, env) {
    if (input.withoutGpuSpec !== undefined) checkNoGpuSpec(inst, input.withoutGpuSpec, env);
    if (!isCompute(input)) return;
    const type = env.catalog.gpuType(inst.gpuType);
    if (!type) throw badParam("Gpu", `GPU type ${inst.gpuType} is no longer in the catalog`);
    env.rules.size(type, input.gpu ?? inst.gpu, input.cpu ?? inst.cpu, input.memory ?? inst.memory, {
      gpu: "Gpu",
      cpu: "Cpu",
      memory: "Memory",
    });
  },
  // The stopped instance shows the spec it will next run with: a GPU spec again leaves no-GPU
  // mode, a named no-GPU spec enters it (Describe's GPU 0 and that spec's CPU and memory).
  begin: (inst, input) =>
    isCompute(input)
      ? {
          gpu: input.gpu ?? inst.gpu,
          cpu: input.cpu ?? inst.cpu,
          memory: input.memory ?? inst.memory,
          noGpuMode: null,
          withoutGpu: false,
          withoutGpuSpec: null,
        }
      : input.withoutGpuSpec !== undefined
        ? { noGpuMode: input.withoutGpuSpec, withoutGpu: true, withoutGpuSpec: input.withoutGpuSpec }
        : {},
  async reserve(r, inst, input, env) {
    if (isCompute(input)) {
      // The disks live on this host, so the new spec must fit the host itself.
      const host = inst.hostId ? await r.hosts.get(inst.hostId) : undefined;
      if (!host || host.gpuCount < inst.gpu || host.cpuTotal < inst.cpu || host.memoryTotal < inst.memory) {
        throw new ApiError("HostResourceNotEnough", {
          reason: `host has ${host?.gpuCount ?? 0} GPUs, ${host?.cpuTotal ?? 0} CPU, ${host?.memoryTotal ?? 0} MB`,
        });
      }
      return;
    }
    if (input.withoutGpuSpec !== undefined) return;
    await growDisk(r, inst, input.diskId as string, input.diskSpace as number, env, {
      disk: "DiskId",
      size: "DiskSpace",
    });
  },
  // Only a Stopped instance is resized: the driver applies the new limits at its next start.
  drive: async () => undefined,
});

/** Extension: back from the recycle bin, same id, Stopped, a fresh system disk, data disks back. */
const recover = defineOperation<{ quota: number }>({
  action: "RecoverCompShareInstance",
  from: ["Stopped", "Install Fail"],
  during: "Install",
  to: "Stopped",
  onFail: "Stopped",
  inRecycle: true,
  locksAccount: true,
  begin: () => ({ inRecycle: false, recycledAt: null }),
  async reserve(r, inst, input, env) {
    // The account was locked before the instance left the bin (locksAccount): a Create or another
    // Recover of the same account counts after this one commits.
    const count = await r.instances.countActive(inst.accountId);
    if (count > input.quota) throw new ApiError("QuotaExceeded", { quota: input.quota, count: count - 1 });
    await r.tasks.deleteOf(inst.id, "purge");
    // The system disk was erased at terminate: a fresh one of the usual size.
    const type = env.catalog.gpuType(inst.gpuType);
    await r.disks.insert({
      id: env.newId("bsm"),
      accountId: inst.accountId,
      projectId: inst.projectId,
      instanceId: inst.id,
      zone: inst.zone,
      isBoot: true,
      diskType: type?.bootDisk.types[0] ?? "CLOUD_SSD",
      sizeGB: DEFAULT_BOOT_GB,
      drive: "/dev/vda",
      state: "InUse",
      name: "",
      chargeType: inst.chargeType,
      keptFor: null,
      createdAt: env.now,
    });
    // The disks it kept come back, unless they were attached elsewhere or deleted meanwhile.
    const taken: string[] = [];
    for (const d of await r.disks.keptFor(inst.id)) {
      const drive = nextDrive(taken);
      const n = await r.disks.update(
        { id: d.id, keptFor: inst.id, states: ["Available"] },
        { instanceId: inst.id, drive, state: "InUse", keptFor: null },
      );
      if (n !== 1) continue;
      taken.push(drive);
      await recordDiskEvent(r, d, "disk.attached", env.now, { uhostId: inst.id, drive, recovered: true });
    }
  },
  async drive(driver, job) {
    await driver.create(await job.spec());
    return undefined;
  },
});

/**
 * A start whose disks can follow it: when its own host cannot take it now (gone, or too full),
 * it moves to the best-fit host among those its disks reach, by the same rule and with the same
 * lock as Create's placement. Its host stays when none has room (the caller then says why).
 */
async function moveIfNoRoom(
  r: Repos,
  inst: InstanceRecord,
  to: "any" | string[],
  type: GpuTypeSpec,
  env: OperationEnv,
): Promise<InstanceRecord> {
  const spec = computeOf(inst, type);
  const demand = { gpu: inst.withoutGpu ? 0 : inst.gpu, cpu: spec.cpu, memory: spec.memory };
  await r.hosts.lockFor(inst.zone, inst.gpuType);
  const rooms = await r.hosts.roomFor(inst.zone, inst.gpuType);
  if (
    pickHost(
      rooms.filter((h) => h.id === inst.hostId),
      demand,
    )
  )
    return inst;
  const host = pickHost(
    rooms.filter((h) => to === "any" || to.includes(h.id)),
    demand,
  );
  if (!host) return inst;
  if (!(await r.instances.cas(inst.id, { lockedBy: "Start", now: env.now }, { hostId: host.id })))
    throw new Conflict();
  await recordInstanceEvent(r, inst, "instance.moved", env.now, { from: inst.hostId, to: host.id });
  return { ...inst, hostId: host.id };
}

/** Takes the instance's GPUs on its host, or fails with the not-enough-GPU error. */
export async function takeGpus(
  r: Repos,
  inst: Pick<InstanceRecord, "id" | "accountId" | "projectId" | "hostId" | "gpu" | "gpuType">,
  now: number,
): Promise<void> {
  if (inst.gpu === 0 || !inst.hostId) return;
  await checkGpuQuota(r, inst.accountId, inst.gpu, true);
  const free = await r.hosts.freeGpuIndexes(inst.hostId, inst.gpu);
  if (free.length < inst.gpu)
    throw new ApiError("NotEnoughGpuOnHost", { gpuType: inst.gpuType, need: inst.gpu, free: free.length });
  for (const idx of free) {
    if (!(await r.hosts.takeGpu(inst.hostId, idx, inst.id))) throw new Conflict();
  }
  await recordInstanceEvent(r, inst, "gpus.taken", now, { hostId: inst.hostId, gpus: free });
}

/**
 * The account's GPU quota: the GPUs its instances hold now plus `need` must fit. With `lock` the
 * account row is locked for the rest of the transaction (PostgreSQL), so concurrent takes for one
 * account are counted one after the other; callers lock it after the hosts, never before, so the
 * lock order is the same everywhere (hosts, then account).
 */
export async function checkGpuQuota(r: Repos, accountId: string, need: number, lock: boolean): Promise<void> {
  const quota = lock
    ? await r.accounts.gpuQuotaLocked(accountId)
    : (await r.accounts.accountById(accountId))?.gpuQuota;
  if (quota === undefined) return;
  const held = await r.hosts.gpusHeldBy(accountId);
  if (held + need > quota) throw new ApiError("GpuQuotaExceeded", { quota, held, need });
}

/**
 * The operation table. Adding an operation: one entry here, one driver method, one action file
 * (and its line in the registry).
 */
export const OPERATIONS = {
  Create: create,
  Start: start,
  Stop: stop,
  Reboot: reboot,
  Terminate: terminate,
  Reinstall: reinstall,
  Resize: resize,
  Recover: recover,
  AttachDisk: attachDisk,
  DetachDisk: detachDisk,
  ResizeDisk: resizeDisk,
  UpdatePorts: updatePorts,
} satisfies Record<string, OperationDef<never>>;

export type OperationName = keyof typeof OPERATIONS;
export type InputOf<K extends OperationName> = (typeof OPERATIONS)[K] extends OperationDef<infer I>
  ? I
  : never;

/** The entry of an operation stored in an instance's lock (undefined for an unknown name). */
export function operationOf(name: string | null): OperationDef<never> | undefined {
  return name !== null && Object.hasOwn(OPERATIONS, name)
    ? (OPERATIONS[name as OperationName] as OperationDef<never>)
    : undefined;
}
