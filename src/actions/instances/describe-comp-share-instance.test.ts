import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams, startTestServer } from "../../../test/helpers.js";
import { DEFAULT_CATALOG } from "../../core/catalog/catalog.js";
import type { Catalog } from "../../domain/catalog.js";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("DescribeCompShareInstance", () => {
  it("pages with a stable order, default limit 20, max 100; Offset past the total is an error", async () => {
    // Docs (Describe): Limit default 20, max 100; UHostIds ≤ 100; Offset past the total → error.
    const big: Catalog = { ...DEFAULT_CATALOG };
    const t2 = await startTestServer({}, { catalog: big }, { http: false });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 25; i++) {
        const r = await t2.call("CreateCompShareInstance", createParams({ ChargeType: "Dynamic" }));
        ids.push((r.UHostIds as string[])[0]!);
      }
      const p1 = await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb" });
      assert.equal(p1.TotalCount, 25);
      assert.equal((p1.UHostSet as unknown[]).length, 20);
      const p2 = await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", Offset: 20, Limit: 20 });
      const seen = [
        ...(p1.UHostSet as Array<{ UHostId: string }>),
        ...(p2.UHostSet as Array<{ UHostId: string }>),
      ].map((u) => u.UHostId);
      assert.equal(new Set(seen).size, 25);
      assert.deepEqual([...seen].sort(), [...ids].sort());
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", Offset: 25 })).RetCode,
        0,
      );
      const past = await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", Offset: 26 });
      assert.equal(past.RetCode, 230);
      assert.match(String(past.Message), /Params \[Offset\]/);
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", Limit: 101 })).RetCode,
        230,
      );
      const tooMany = Array.from({ length: 101 }, (_, i) => `uhost-${i}`);
      assert.match(
        String(
          (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: tooMany })).Message,
        ),
        /\[UHostIds\].*at most 100/,
      );
      const byId = await t2.call("DescribeCompShareInstance", {
        Region: "cn-wlcb",
        UHostIds: [ids[3]!, "uhost-unknown"],
      });
      assert.equal(byId.TotalCount, 1);
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: ["uhost-unknown"] }))
          .TotalCount,
        0,
      );
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", Zone: "cn-bj2-02" })).RetCode,
        230,
      );
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-bj2", Zone: "cn-bj2-02" })).TotalCount,
        0,
      );
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", Tag: "Default" })).TotalCount,
        25,
      );
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", Tag: "other" })).TotalCount,
        0,
      );
      const u = (p1.UHostSet as Array<{ IPSet: Array<{ VPCId: string; SubnetId: string }> }>)[0]!;
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", VPCId: u.IPSet[0]!.VPCId }))
          .TotalCount,
        25,
      );
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", VPCId: "uvnet-other" })).TotalCount,
        0,
      );
      assert.equal(
        (await t2.call("DescribeCompShareInstance", { Region: "cn-wlcb", SubnetId: u.IPSet[0]!.SubnetId }))
          .TotalCount,
        25,
      );
    } finally {
      await t2.close();
    }
  });

  it("UDiskIdForAttachment: the instances of the detached disk's zone; an attached or unknown disk lists none", async () => {
    const { t } = fx;
    const a = await fx.running({
      Disks: [
        { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
        { IsBoot: false, Type: "CLOUD_SSD", Size: 100 },
      ],
    });
    const b = await fx.running();
    const dataDisk = ((await fx.describe(a))?.DiskSet as Array<{ DiskId: string; IsBoot: string }>).find(
      (d) => d.IsBoot === "False",
    )!.DiskId;
    assert.equal(
      (await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", UDiskIdForAttachment: dataDisk }))
        .TotalCount,
      0,
      "still attached",
    );
    await fx.recycled(a);
    const r = await t.call("DescribeCompShareInstance", {
      Region: "cn-wlcb",
      UDiskIdForAttachment: dataDisk,
    });
    assert.deepEqual(
      (r.UHostSet as Array<{ UHostId: string }>).map((u) => u.UHostId),
      [b],
    );
    assert.equal(
      (await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", UDiskIdForAttachment: "bs-unknown1" }))
        .TotalCount,
      0,
    );
  });

  it("race: during a transition it shows the transitional state, then the end state", async () => {
    const id = await fx.running();
    const stop = fx.hold("stop");
    assert.equal((await fx.t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await stop.reached();
    const during = await fx.expectState(id, "Stopping");
    assert.equal(during.ReleaseTime, 0, "no release time before the stop completes");
    stop.release();
    await fx.settle();
    const u = await fx.expectState(id, "Stopped");
    assert.equal(u.SshLoginCommand, "");
  });
});
