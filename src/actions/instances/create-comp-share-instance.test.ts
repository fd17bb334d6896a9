import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams } from "../../../test/helpers.js";
import { InstanceFixture, b64 } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("CreateCompShareInstance", () => {
  it("creates: Install → Running, with GPUs held and every documented field typed", async () => {
    const { t } = fx;
    const create = fx.hold("create");
    const r = await t.call(
      "CreateCompShareInstance",
      createParams({ Name: "trainer-1", Password: b64("Passw0rd!x") }),
    );
    assert.equal(r.RetCode, 0);
    const id = (r.UHostIds as string[])[0]!;
    assert.match(id, /^uhost-[a-z0-9]{8}$/);
    await create.reached();
    // While the runtime is being provisioned the instance shows Install (and holds its GPUs).
    await fx.expectState(id, "Install");
    assert.equal((await fx.gpusHeld()).length, 1);
    create.release();
    await fx.settle();
    const u = await fx.expectState(id, "Running");
    assert.equal(u.Name, "trainer-1");
    assert.equal(u.GPU, 1);
    assert.equal(u.CPU, 16);
    assert.equal(u.Memory, 65536);
    assert.equal(u.GpuType, "4090");
    assert.equal(u.Password, b64("Passw0rd!x"));
    assert.match(String(u.SshLoginCommand), /^ssh root@10\.\d+\.\d+\.\d+ -p 60022$/);
    assert.equal(u.InstancePrice, 2.05);
    assert.equal(u.SupportWithoutGpuStart, true);
    assert.deepEqual(u.WithoutGpuSpec, { Cpu: 2, Gpu: 0, Memory: 8192 });
    const disk = (u.DiskSet as Array<Record<string, unknown>>)[0]!;
    assert.equal(disk.IsBoot, "True");
    assert.equal(typeof (u.MonitorMessages as Record<string, unknown>).CpuUsageRate, "string");
    for (const k of ["CreateTime", "StartTime", "UpdateTime", "ExpireTime", "StopTime", "ReleaseTime"])
      assert.equal(typeof u[k], "number", k);
    assert.equal((await fx.gpusHeld()).length, 1);
    assert.deepEqual([fx.sim.calls.create, fx.sim.calls.start], [1, 1]);
  });

  it("refuses what the catalog does not sell, naming the parameter and the legal values", async () => {
    const { t } = fx;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ Zone: "cn-wlcb-09" }, /Params \[Zone\].*unknown zone/],
      [{ GpuType: "H100" }, /Params \[GpuType\].*not sold in cn-wlcb-01; choose one of 4090/],
      [
        { GpuType: "4090_48G", ChargeType: "Spot" },
        /Params \[ChargeType\].*Spot is not offered for GPU type 4090_48G/,
      ],
      [{ CPU: 12 }, /Params \[CPU\].*choose one of 16/],
      [{ Memory: 32768 }, /Params \[Memory\].*choose one of 65536/],
      [{ Memory: 1000 }, /Params \[Memory\].*at least 1024/],
      [{ GPU: 3 }, /Params \[GPU\].*choose one of 1, 2, 4, 8/],
      [{ CompShareImageId: "compshareImage-nope" }, /Params \[CompShareImageId\].*does not exist/],
      [
        {
          Disks: [
            { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
            { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
          ],
        },
        /Params \[Disks\].*exactly one/,
      ],
      [
        { Disks: [{ IsBoot: true, Type: "CLOUD_SSD", Size: 5000 }] },
        /Params \[Disks\.0\.Size\].*between 20 and 500/,
      ],
      [
        { Disks: [{ IsBoot: true, Type: "CLOUD_RSSD", Size: 50 }] },
        /Params \[Disks\.0\.Type\].*CLOUD_RSSD is not offered for 4090/,
      ],
      [{ Password: b64("short") }, /Params \[Password\].*8 to 32/],
      [{ Password: "not base64!" }, /Params \[Password\].*base64/],
      [{ Name: "x".repeat(64) }, /Params \[Name\].*63/],
      [{ ChargeType: "Yearly" }, /Params \[ChargeType\].*one of Month/],
    ];
    for (const [extra, re] of cases) {
      const r = await t.call("CreateCompShareInstance", createParams(extra as never));
      assert.equal(
        r.RetCode === 230 || r.RetCode === 210,
        true,
        `${JSON.stringify(extra)} → ${r.RetCode} ${r.Message}`,
      );
      assert.match(String(r.Message), re);
    }
    assert.equal(
      (await t.call("DescribeCompShareInstance", { Region: "cn-wlcb" })).TotalCount,
      0,
      "nothing half-created",
    );
    assert.equal((await fx.gpusHeld()).length, 0);
  });

  it("fails with out-of-resources when no host has room; no GPU is held twice", async () => {
    await fx.running();
    await fx.running();
    const r = await fx.t.call("CreateCompShareInstance", createParams());
    assert.equal(r.RetCode, 226604);
    assert.match(String(r.Message), /out of resources/);
    const held = await fx.gpusHeld();
    assert.equal(held.length, 2);
    assert.notEqual(held[0]?.instance_id, held[1]?.instance_id);
  });

  it("enforces the account's instance quota", async () => {
    // Docs (Create limits): an account holds at most its level's quota of instances.
    const { t } = fx;
    const acct = await t.server.services.accounts.createAccount(`quota-${Date.now()}`, { instanceQuota: 1 });
    assert.equal((await t.call("CreateCompShareInstance", createParams(), acct.keyPair)).RetCode, 0);
    const r = await t.call("CreateCompShareInstance", createParams(), acct.keyPair);
    assert.equal(r.RetCode, 8046);
    assert.match(String(r.Message), /quota/);
  });

  it("a runtime that cannot be provisioned ends in Install Fail with the reason; its GPUs go back", async () => {
    fx.sim.injectFault({
      op: "create",
      message: "image pull failed",
      count: fx.t.server.services.instances.timings.driverAttempts,
    });
    const r = await fx.t.call("CreateCompShareInstance", createParams());
    assert.equal(r.RetCode, 0);
    const id = (r.UHostIds as string[])[0]!;
    await fx.exhaustDriverAttempts();
    const u = await fx.expectState(id, "Install Fail");
    assert.match(String(u.Remark), /image pull failed/);
    assert.equal((await fx.gpusHeld()).length, 0);
    assert.equal(fx.sim.calls.create, fx.t.server.services.instances.timings.driverAttempts);
  });

  it("race: concurrent creates never over-allocate", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => fx.t.call("CreateCompShareInstance", createParams())),
    );
    assert.equal(results.filter((r) => r.RetCode === 0).length, 2);
    assert.equal(results.filter((r) => r.RetCode === 226604).length, 4);
    assert.equal((await fx.gpusHeld()).length, 2);
  });

  it("MaxCount makes that many identical instances in one call, all placed or none", async () => {
    // The docs' and the official CLI's MaxCount (the CLI always sends it); the host has 2 GPUs.
    const { t } = fx;
    const three = await t.call("CreateCompShareInstance", createParams({ MaxCount: 3 }));
    assert.equal(three.RetCode, 226604, "3 × 1 GPU cannot all be placed");
    assert.equal((await fx.gpusHeld()).length, 0, "none of them was made");
    assert.equal((await t.call("DescribeCompShareInstance", { Region: "cn-wlcb" })).TotalCount, 0);
    const two = await t.call("CreateCompShareInstance", createParams({ MaxCount: 2, Name: "twin" }));
    assert.equal(two.RetCode, 0);
    const ids = two.UHostIds as string[];
    assert.equal(new Set(ids).size, 2);
    await fx.settle();
    for (const id of ids) {
      const u = await fx.expectState(id, "Running");
      assert.equal(u.Name, "twin");
    }
    assert.equal((await fx.gpusHeld()).length, 2);
    for (const MaxCount of [0, 101, "x"]) {
      const r = await t.call("CreateCompShareInstance", createParams({ MaxCount }));
      assert.equal(r.RetCode, 230, String(MaxCount));
      assert.match(String(r.Message), /Params \[MaxCount\]/);
    }
  });

  it("MaxCount counts against the quota as a whole", async () => {
    const { t } = fx;
    const acct = await t.server.services.accounts.createAccount(`quota2-${Date.now()}`, { instanceQuota: 1 });
    const r = await t.call("CreateCompShareInstance", createParams({ MaxCount: 2 }), acct.keyPair);
    assert.equal(r.RetCode, 8046);
    assert.equal((await fx.gpusHeld()).length, 0);
  });

  it("Remark is stored and shown; EnableCfs/EnableUS3 are refused when asked for, accepted when not", async () => {
    const { t } = fx;
    const r = await t.call(
      "CreateCompShareInstance",
      createParams({ Remark: "vllm 0.6, team A", EnableCfs: false, EnableUS3: false }),
    );
    assert.equal(r.RetCode, 0, String(r.Message));
    const id = (r.UHostIds as string[])[0] as string;
    await fx.settle();
    assert.equal((await fx.expectState(id, "Running")).Remark, "vllm 0.6, team A");
    for (const [param, extra] of [
      ["EnableCfs", { EnableCfs: true }],
      ["EnableUS3", { EnableUS3: true }],
      ["Remark", { Remark: "x".repeat(256) }],
    ] as const) {
      const bad = await t.call("CreateCompShareInstance", createParams(extra));
      assert.equal(bad.RetCode, 230, param);
      assert.match(String(bad.Message), new RegExp(`Params \\[${param}\\]`));
    }
    assert.equal((await fx.gpusHeld()).length, 1, "nothing made by the refused calls");
  });
});
