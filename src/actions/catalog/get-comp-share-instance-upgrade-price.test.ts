import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";

const fx = new InstanceFixture();

describe("GetCompShareInstanceUpgradePrice", () => {
  it("the difference from the current spec: per hour for hourly charge types, prorated for prepaid ones", async () => {
    const { t } = fx;
    const id = await fx.running();
    // Postpay 4090 at 2.05 per GPU-hour: 1 → 2 GPUs costs 2.05 more per hour (docs' CPU/GPU spelling).
    const up = await t.call("GetCompShareInstanceUpgradePrice", {
      ...Z,
      UHostId: id,
      GPU: 2,
      CPU: 32,
      Memory: 131072,
    });
    assert.equal(up.RetCode, 0, JSON.stringify(up));
    assert.deepEqual([up.Price, up.OriginalPrice, up.ListPrice], [2.05, 2.05, 2.05]);
    // The Go SDK's Cpu/Gpu spelling gives the same answer.
    const sdk = await t.call("GetCompShareInstanceUpgradePrice", {
      ...Z,
      UHostId: id,
      Gpu: 2,
      Cpu: 32,
      Memory: 131072,
    });
    assert.equal(sdk.Price, 2.05);
    // A month bought today (30 days left): going to 2 GPUs costs a whole month of one more GPU.
    const m = await fx.running({ ChargeType: "Month", Quantity: 1 });
    const monthly = await t.call("GetCompShareInstanceUpgradePrice", {
      ...Z,
      UHostId: m,
      GPU: 2,
      CPU: 32,
      Memory: 131072,
    });
    assert.ok(Math.abs((monthly.Price as number) - 1150) < 0.1, JSON.stringify(monthly));
  });

  it("the target must be a legal spec of the type; the two spellings must agree", async () => {
    const { t } = fx;
    const id = await fx.running();
    const illegal = await t.call("GetCompShareInstanceUpgradePrice", { ...Z, UHostId: id, GPU: 2 });
    assert.match(String(illegal.Message), /Params \[CPU\].*choose one of 32/);
    const both = await t.call("GetCompShareInstanceUpgradePrice", { ...Z, UHostId: id, GPU: 2, Gpu: 1 });
    assert.match(String(both.Message), /\[GPU\].*differs from Gpu/);
    assert.equal(
      (await t.call("GetCompShareInstanceUpgradePrice", { ...Z, UHostId: "uhost-nothere", GPU: 1 })).RetCode,
      8039,
    );
    assert.equal((await t.call("GetCompShareInstanceUpgradePrice", { ...Z, GPU: 1 })).RetCode, 210);
  });
});
