import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";

const fx = new InstanceFixture();

type Refund = { UHostId: string; Code: number; Message: string; ErrMessage: string; RefundPrice: number };

describe("GetCompShareRefundPrice", () => {
  it("the unused prepaid part per instance; 0 for hourly; an unknown one gets its own code", async () => {
    const { t } = fx;
    const hourly = await fx.running();
    const monthly = await fx.running({ ChargeType: "Month", Quantity: 1 });
    const r = await t.call("GetCompShareRefundPrice", { ...Z, UHostIds: [hourly, monthly, "uhost-nothere"] });
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    const set = r.RefundPriceSet as Refund[];
    assert.deepEqual(set[0], { UHostId: hourly, Code: 0, Message: "", ErrMessage: "", RefundPrice: 0 });
    // A month bought just now: the whole month back (1150 for the GPU, plus the 50 GB system disk).
    assert.equal(set[1]?.Code, 0);
    assert.ok(
      Math.abs((set[1]?.RefundPrice as number) - (1150 + 50 * 0.0003 * 720)) < 0.1,
      JSON.stringify(set[1]),
    );
    assert.equal(set[2]?.Code, 8039);
    assert.match(String(set[2]?.Message), /not found/);
    assert.equal(set[2]?.ErrMessage, set[2]?.Message, "the Go SDK reads ErrMessage");
    // Half the month later, about half of it.
    t.server.internals.clock.advance(15 * 86400_000);
    const later = await t.call("GetCompShareRefundPrice", { ...Z, UHostIds: [monthly] });
    const half = (later.RefundPriceSet as Refund[])[0]?.RefundPrice as number;
    assert.ok(half > 580 && half < 600, String(half));
    assert.equal((await t.call("GetCompShareRefundPrice", { ...Z })).RetCode, 210);
  });
});
