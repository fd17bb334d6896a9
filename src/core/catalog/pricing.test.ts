import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CATALOG } from "./catalog.js";
import type { PriceInput } from "./pricing.js";
import { quote } from "./pricing.js";

const input = (chargeType: PriceInput["chargeType"]): PriceInput => ({
  gpuType: "4090",
  gpu: 1,
  cpu: 16,
  chargeType,
  withoutGpu: false,
  disks: [],
});

/** 2026-06-01 at `hour`:30 in UTC+8, the built-in catalog's discount zone. */
const beijing = (hour: number) => Date.UTC(2026, 5, 1, hour - 8, 30);

describe("night discount (DiscountType 1)", () => {
  it("applies 00:00-08:00 UTC+8 to hourly charge types, not to Spot, Day or Month", () => {
    const night = quote(DEFAULT_CATALOG, input("Postpay"), beijing(3))!;
    assert.equal(night.discountType, 1);
    assert.equal(night.instance, Math.round(night.instanceList * 0.8 * 10000) / 10000);
    const day = quote(DEFAULT_CATALOG, input("Postpay"), beijing(12))!;
    assert.equal(day.discountType, 0);
    assert.equal(day.instance, day.instanceList);
    // The window's edges: 00:00 is inside, 08:00 is not.
    assert.equal(quote(DEFAULT_CATALOG, input("Dynamic"), Date.UTC(2026, 5, 1, -8, 0))!.discountType, 1);
    assert.equal(quote(DEFAULT_CATALOG, input("Dynamic"), Date.UTC(2026, 5, 1, 0, 0))!.discountType, 0);
    for (const ct of ["Spot", "Day", "Month"] as const)
      assert.equal(quote(DEFAULT_CATALOG, input(ct), beijing(3))?.discountType, 0, ct);
  });
});
