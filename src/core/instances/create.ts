import type { ChargeType, GpuTypeSpec } from "../../domain/catalog.js";
import { ApiError, Conflict, badParam } from "../../domain/errors.js";
import { assertNever } from "../../domain/states.js";
import type { Repos } from "../../store/store.js";
import type { DiskAsked } from "../catalog/spec-rules.js";
import { recordInstanceEvent } from "../events.js";
import type { InstanceServiceDeps } from "./instances.js";
import { checkGpuQuota, takeGpus } from "./operations.js";
import { decodePassword, generatePassword } from "./passwords.js";
import { pickHost } from "./placement.js";
import type { Scope } from "./scope.js";
import { portsOfImage } from "./software-ports.js";

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
  /** Free text shown on Describe (the docs' and the official CLI's `Remark`). */
  remark?: string;
  /** How many identical instances (the official CLI always sends `MaxCount`, default 1). */
  maxCount?: number;
}

/** The most instances one Create may make (a bound on one transaction's work). */
export const MAX_COUNT = 100;
/** Remark length we keep (the docs give none; the field is free text). */
const MAX_REMARK = 255;

const NAME_RE = /^[\p{Script=Han}A-Za-z0-9_.,:\- ]+$/u;

/** Docs: at most 63 characters of CJK, letters, digits and `_ . , : -`. */
export function checkName(name: string, param: string): string {
  if (name.length === 0) throw badParam(param, "must not be empty");
  if ([...name].length > 63) throw badParam(param, "at most 63 characters");
  if (!NAME_RE.test(name))
    throw badParam(param, "only CJK characters, letters, digits and _ . , : - are allowed");
  return name;
}

/**
 * Create: every rule checked first (nothing is written for a refused request), then one
 * transaction that checks the quota, places each of the `maxCount` instances on a host with room
 * (taking specific GPUs), inserts them with their disks, their Create lock and the worker's task:
 * all of them or none.
 */
export async function createInstances(
  d: InstanceServiceDeps,
  scope: Scope,
  input: CreateInput,
): Promise<string[]> {
  const { rules } = d;
  rules.zone(scope.region, input.zone);
  const type = rules.gpuType(input.zone, input.gpuType);
  const chargeType = rules.chargeType(input.zone, type, input.chargeType ?? "Month");
  rules.size(type, input.gpu, input.cpu, input.memory, { gpu: "GPU", cpu: "CPU", memory: "Memory" });
  const machineType = input.machineType ?? "G";
  if (machineType !== "G") throw badParam("MachineType", "only G is offered");
  const platform = rules.platform(type, input.minimalCpuPlatform);
  const image = await d.images.usable(scope, input.imageId, { action: "CreateCompShareInstance" });
  const disks = input.disks ?? [{ ...rules.defaultBootDisk(type), param: "Disks.0" }];
  rules.disks(type, disks, { exactlyOneBoot: true });
  const password =
    input.password !== undefined ? decodePassword(input.password, "Password") : generatePassword();
  const name = input.name === undefined ? `${type.name}-instance` : checkName(input.name, "Name");
  const remark = input.remark ?? "";
  if ([...remark].length > MAX_REMARK) throw badParam("Remark", `at most ${MAX_REMARK} characters`);
  const quantity = input.quantity ?? 1;
  const maxCount = input.maxCount ?? 1;

  const now = d.clock.now();
  const ids = await withConflictRetry(() =>
    d.store.tx(async (r) => {
      // A custom image must still be there as the instances are made (a delete waits for this).
      await d.images.hold(r, image.id);
      const count = await r.instances.countActive(scope.account.id);
      if (count + maxCount > scope.account.instanceQuota) {
        throw new ApiError("QuotaExceeded", { quota: scope.account.instanceQuota, count });
      }
      // The whole request against the GPU quota first, for a clear error before any placement;
      // each placement checks again with the account locked (takeGpus).
      await checkGpuQuota(r, scope.account.id, input.gpu * maxCount, false);
      const made: string[] = [];
      for (let i = 0; i < maxCount; i++) {
        const id = d.ids.next(image.container ? "cpod" : "uhost");
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
        const hostId = await place(r, owner, input.zone, type, input, now);
        await r.instances.insert({
          id,
          accountId: scope.account.id,
          projectId: scope.project.id,
          region: scope.region,
          zone: input.zone,
          name,
          tag: "Default",
          remark,
          state: "Install",
          operation: "Create",
          operationExpiresAt: now + d.timings.lockTtlMs,
          instanceType: image.container ? "Container" : "UHost",
          machineType,
          gpuType: type.name,
          gpu: input.gpu,
          cpu: input.cpu,
          memory: input.memory,
          cpuPlatform: platform,
          withoutGpu: false,
          withoutGpuSpec: null,
          noGpuMode: null,
          hostId,
          holdsCompute: true,
          chargeType,
          imageId: image.id,
          passwordSealed: d.secrets.seal(password),
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
          // A custom image publishes what its platform image's software does.
          ports: image.base ? portsOfImage(d.catalog, image.base) : { http: [], tcp: [] },
          publishedPorts: {},
        });
        let dataIndex = 0;
        for (const disk of disks) {
          const limits = disk.isBoot ? type.bootDisk : type.dataDisk;
          await r.disks.insert({
            id: d.ids.next(disk.isBoot ? "bsm" : "bs"),
            accountId: scope.account.id,
            instanceId: id,
            zone: input.zone,
            isBoot: disk.isBoot,
            diskType: disk.type ?? limits.types[0] ?? "CLOUD_SSD",
            sizeGB: disk.size ?? limits.minGB,
            drive: disk.isBoot ? "/dev/vda" : `/dev/vd${String.fromCharCode(98 + dataIndex++)}`,
            state: "InUse",
            projectId: scope.project.id,
            name: "",
            chargeType,
            keptFor: null,
            createdAt: now,
          });
        }
        await d.engine.enqueue(r, [id], "Create", now);
        made.push(id);
      }
      // Again with the account locked (placement locked it for the GPU quota; this keeps the lock
      // order hosts → account): a create of the same account on another replica that passed the
      // first check meanwhile has committed by now, or waits for this one.
      const after = await r.instances.countActive(scope.account.id, { lock: true });
      if (after > scope.account.instanceQuota) {
        throw new ApiError("QuotaExceeded", { quota: scope.account.instanceQuota, count: after - maxCount });
      }
      return made;
    }),
  );
  d.kick();
  return ids;
}

/**
 * Picks a host with room and reserves CPU/memory and specific GPUs on it, with the zone's hosts
 * locked so concurrent creates queue up instead of racing for the same best-fit host.
 */
async function place(
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
        const dt = new Date(now);
        return Date.UTC(dt.getUTCFullYear(), dt.getUTCMonth() + 1, 1);
      }
      return now + quantity * 30 * day;
    }
    case "Day":
      return now + Math.max(1, quantity) * day;
    case "Dynamic":
    case "Postpay":
    case "Spot":
      return null;
    default:
      return assertNever(chargeType);
  }
}
