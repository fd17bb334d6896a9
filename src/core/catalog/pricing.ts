import type { Catalog, ChargeType } from "../../domain/catalog.js";
import { UNIT_HOURS } from "../../domain/catalog.js";

export interface PriceInput {
  gpuType: string;
  gpu: number;
  cpu: number;
  chargeType: ChargeType;
  withoutGpu: boolean;
  disks: Array<{ isBoot: boolean; type: string; sizeGB: number }>;
}

export interface PriceQuote {
  chargeType: ChargeType;
  /** Instance price per charge-type unit, after any discount. */
  instance: number;
  /** List (undiscounted) instance price. */
  instanceList: number;
  systemDisks: number;
  dataDisks: number;
  disks: Array<{ isBoot: boolean; price: number }>;
  /** 0 none, 1 night discount (DiscountType on the wire). */
  discountType: number;
}

/** Every price and price difference is rounded to 4 decimals, by this one rule. */
export const roundPrice = (n: number): number => Math.round(n * 10000) / 10000;

/** The catalog's night-discount rate when `now` falls in its window for this charge type. */
export function nightDiscount(catalog: Catalog, chargeType: ChargeType, now: number): number | undefined {
  const nd = catalog.prices.nightDiscount;
  if (!nd || UNIT_HOURS[chargeType] !== 1 || chargeType === "Spot") return undefined;
  const hour = new Date(now + nd.utcOffsetHours * 3600_000).getUTCHours();
  const inside =
    nd.fromHour <= nd.toHour
      ? hour >= nd.fromHour && hour < nd.toHour
      : hour >= nd.fromHour || hour < nd.toHour;
  return inside ? nd.rate : undefined;
}

/**
 * The one price function. Describe's InstancePrice/DiskPrice and GetCompShareInstancePrice both call
 * it, so the two can never disagree. Prices are per charge-type unit (hour, day or month).
 */
export function quote(catalog: Catalog, input: PriceInput, now: number): PriceQuote | undefined {
  const unit = UNIT_HOURS[input.chargeType];
  let list: number;
  if (input.withoutGpu) {
    list = catalog.prices.withoutGpuPerCpuHour * input.cpu * unit;
  } else {
    const perGpu = catalog.prices.gpu[input.gpuType]?.[input.chargeType];
    if (perGpu === undefined) return undefined;
    list = perGpu * input.gpu;
  }
  const rate = nightDiscount(catalog, input.chargeType, now);
  const disks = input.disks.map((d) => ({
    isBoot: d.isBoot,
    price: roundPrice((catalog.prices.diskPerGbHour[d.type] ?? 0) * d.sizeGB * unit),
  }));
  return {
    chargeType: input.chargeType,
    instance: roundPrice(rate ? list * rate : list),
    instanceList: roundPrice(list),
    systemDisks: roundPrice(disks.filter((d) => d.isBoot).reduce((s, d) => s + d.price, 0)),
    dataDisks: roundPrice(disks.filter((d) => !d.isBoot).reduce((s, d) => s + d.price, 0)),
    disks,
    discountType: rate ? 1 : 0,
  };
}
