import { ApiError, badParam } from "../../domain/errors.js";
import type { InstanceRecord } from "../../domain/records.js";
import { refundOf, upgradeDelta } from "../catalog/adjustments.js";
import type { PriceInput } from "../catalog/pricing.js";
import { computeOf } from "./compute.js";
import type { InstanceServiceDeps } from "./instances.js";
import type { Scope } from "./scope.js";
import { visible, visibleOrThrow } from "./scope.js";

/** A resize target; what is not given stays as the instance has it. */
export interface UpgradeTarget {
  cpu?: number;
  memory?: number;
  gpu?: number;
}

/** One element of GetCompShareRefundPrice's answer. */
export interface RefundQuote {
  uhostId: string;
  /** 0 when the instance was found (refundable, possibly 0); else the RetCode of why not. */
  code: number;
  message: string;
  refund: number;
}

async function priceInput(d: InstanceServiceDeps, inst: InstanceRecord): Promise<PriceInput> {
  const disks = (await d.store.disks.ofInstances([inst.id])).filter((x) => x.state !== "Deleted");
  const compute = computeOf(inst, d.catalog.gpuType(inst.gpuType));
  return {
    gpuType: inst.gpuType,
    gpu: inst.gpu,
    cpu: compute.cpu,
    chargeType: inst.chargeType,
    withoutGpu: inst.withoutGpu,
    disks: disks.map((x) => ({ isBoot: x.isBoot, type: x.diskType, sizeGB: x.sizeGB })),
  };
}

/**
 * GetCompShareInstanceUpgradePrice: the new spec must be a legal combination of the instance's
 * type (the same rule Resize applies); the answer is the difference from the current spec.
 */
export async function upgradePrice(
  d: InstanceServiceDeps,
  scope: Scope,
  id: string,
  target: UpgradeTarget,
): Promise<{ price: number; list: number }> {
  const inst = visibleOrThrow(await d.store.instances.get(id), id, scope);
  const type = d.catalog.gpuType(inst.gpuType);
  if (!type) throw badParam("UHostId", `GPU type ${inst.gpuType} is no longer in the catalog`);
  const gpu = target.gpu ?? inst.gpu;
  const cpu = target.cpu ?? inst.cpu;
  const memory = target.memory ?? inst.memory;
  d.rules.size(type, gpu, cpu, memory, { gpu: "GPU", cpu: "CPU", memory: "Memory" });
  const from = await priceInput(d, inst);
  const now = d.clock.now();
  return upgradeDelta(
    d.catalog.catalog,
    { ...from, withoutGpu: false, cpu: inst.cpu },
    { ...from, withoutGpu: false, gpu, cpu },
    inst.expireAt,
    now,
  );
}

/** GetCompShareRefundPrice: per instance, found or not (an unknown one gets its code, not a failed call). */
export async function refundPrices(
  d: InstanceServiceDeps,
  scope: Scope,
  ids: string[],
): Promise<RefundQuote[]> {
  const now = d.clock.now();
  const out: RefundQuote[] = [];
  for (const id of ids) {
    const inst = await d.store.instances.get(id);
    if (!visible(inst, scope, false) || !inst) {
      const e = new ApiError("InstanceNotFound", { uhostId: id });
      out.push({ uhostId: id, code: e.retCode, message: e.message, refund: 0 });
      continue;
    }
    out.push({
      uhostId: id,
      code: 0,
      message: "",
      refund: refundOf(d.catalog.catalog, await priceInput(d, inst), inst.expireAt, now),
    });
  }
  return out;
}
