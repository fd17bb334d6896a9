import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("DescribeCompShareRecycleInstance (extension)", () => {
  it("lists terminated instances with when they entered the bin and when they will be purged", async () => {
    const { t } = fx;
    const id = await fx.running();
    const live = await fx.running();
    const seconds = () => Math.floor(t.server.internals.clock.now() / 1000);
    const before = seconds();
    await fx.recycled(id);
    const after = seconds();
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.equal(bin.TotalCount, 1);
    const [u] = bin.UHostSet as Array<Record<string, unknown>>;
    assert.equal(u?.UHostId, id);
    assert.notEqual(u?.UHostId, live);
    assert.equal(u?.InRecycle, "Yes");
    const recycledAt = u?.RecycleTime as number;
    assert.ok(
      recycledAt >= before && recycledAt <= after,
      `RecycleTime ${recycledAt} in [${before}, ${after}]`,
    );
    assert.equal(u?.PurgeTime, (u?.RecycleTime as number) + 72 * 3600);
  });

  it("Offset past the total is an error, as on Describe", async () => {
    const { t } = fx;
    assert.equal(
      (await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb", Offset: 0 })).RetCode,
      0,
    );
    const past = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb", Offset: 1 });
    assert.equal(past.RetCode, 230);
    assert.match(String(past.Message), /Params \[Offset\]/);
    assert.equal(
      (await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb", Limit: 101 })).RetCode,
      230,
    );
  });

  it("race: a terminated instance is in the bin while its runtime is still being destroyed", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    const destroy = fx.hold("destroy");
    assert.equal((await t.call("TerminateCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await destroy.reached();
    const during = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.deepEqual(
      (during.UHostSet as Array<{ UHostId: string }>).map((u) => u.UHostId),
      [id],
    );
    destroy.release();
    await fx.settle();
    const done = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.deepEqual(
      (done.UHostSet as Array<{ UHostId: string }>).map((u) => u.UHostId),
      [id],
    );
  });
});
