import type { Catalog, ChargeType } from "../../domain/catalog.js";
import { UNIT_HOURS } from "../../domain/catalog.js";
import type { PriceInput } from "./pricing.js";
import { quote, roundPrice } from "./pricing.js";

/**
 * How many charge-type units of a prepaid instance are left until it expires (a fraction), or
 * undefined for the hourly charge types, which bill as they go and have nothing prepaid.
 */
export function unitsLeft(chargeType: ChargeType, expireAt: number | null, now: number): number | undefined {
  if (UNIT_HOURS[chargeType] === 1 || expireAt === null) return undefined;
  return Math.max(0, expireAt - now) / (UNIT_HOURS[chargeType] * 3600_000);
}

/**
 * What a spec change costs (positive: pay the difference; negative: refunded), from the one price
 * function: per hour for the hourly charge types, prorated to the expiry for prepaid ones.
 */
export function upgradeDelta(
  catalog: Catalog,
  from: PriceInput,
  to: PriceInput,
  expireAt: number | null,
  now: number,
): { price: number; list: number } {
  const a = quote(catalog, from, now);
  const b = quote(catalog, to, now);
  const units = unitsLeft(from.chargeType, expireAt, now) ?? 1;
  return {
    price: roundPrice(((b?.instance ?? 0) - (a?.instance ?? 0)) * units),
    list: roundPrice(((b?.instanceList ?? 0) - (a?.instanceList ?? 0)) * units),
  };
}

/** What deleting an instance now refunds: the unused prepaid part (instance and disks), else 0. */
export function refundOf(catalog: Catalog, spec: PriceInput, expireAt: number | null, now: number): number {
  const units = unitsLeft(spec.chargeType, expireAt, now);
  if (units === undefined) return 0;
  const q = quote(catalog, spec, now);
  return roundPrice(((q?.instance ?? 0) + (q?.systemDisks ?? 0) + (q?.dataDisks ?? 0)) * units);
}
