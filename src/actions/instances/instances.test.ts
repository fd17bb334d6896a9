import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { TestServer } from "../../../test/helpers.js";
import { createParams, createRunning, startTestServer } from "../../../test/helpers.js";
import { DEFAULT_CATALOG } from "../../core/catalog/catalog.js";
import type { Catalog } from "../../domain/catalog.js";

let t: TestServer;
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A small catalog: one 4090 host with 2 GPUs, so capacity is easy to exhaust. */
const small: Catalog = {
  ...DEFAULT_CATALOG,
  hosts: [{ id: "h1", zone: "cn-wlcb-01", gpuType: "4090", gpus: 2, cpu: 64, memoryMB: 262144 }],
};

before(async () => {
  t = await startTestServer({}, { catalog: small });
});
after(async () => {
  await t.close();
});
beforeEach(async () => {
  await t.server.services.emulator?.reset();
  if (t.server.internals.sim) t.server.internals.sim.latencyMs = 0;
});

async function gpusHeld(): Promise<Array<{ gpu_index: unknown; instance_id: unknown }>> {
  return (await t.server.internals.db.all(
    "SELECT gpu_index, instance_id FROM host_gpus WHERE instance_id IS NOT NULL ORDER BY gpu_index",
  )) as Array<{
    gpu_index: unknown;
    instance_id: unknown;
  }>;
}

async function stopped(id: string) {
  assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
  return t.waitState(id, "Stopped");
}

describe("CreateCompShareInstance", () => {
  it("creates: Install → Running, with GPUs held and every documented field typed", async () => {
    const r = await t.call(
      "CreateCompShareInstance",
      createParams({ Name: "trainer-1", Password: b64("Passw0rd!x") }),
    );
    assert.equal(r.RetCode, 0);
    const id = (r.UHostIds as string[])[0]!;
    assert.match(id, /^uhost-[a-z0-9]{8}$/);
    const installing = await t.describeOne(id);
    assert.ok(installing?.State === "Install" || installing?.State === "Running");
    const u = await t.waitState(id, "Running");
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
    assert.equal((await gpusHeld()).length, 1);
  });

  it("refuses what the catalog does not sell, naming the parameter and the legal values", async () => {
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
    assert.equal((await gpusHeld()).length, 0);
  });

  it("fails with out-of-resources when no host has room; no GPU is held twice", async () => {
    await createRunning(t);
    await createRunning(t);
    const r = await t.call("CreateCompShareInstance", createParams());
    assert.equal(r.RetCode, 226604);
    assert.match(String(r.Message), /out of resources/);
    const held = await gpusHeld();
    assert.equal(held.length, 2);
    assert.notEqual(held[0]?.instance_id, held[1]?.instance_id);
  });

  it("concurrent creates never over-allocate", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => t.call("CreateCompShareInstance", createParams())),
    );
    assert.equal(results.filter((r) => r.RetCode === 0).length, 2);
    assert.equal(results.filter((r) => r.RetCode === 226604).length, 4);
    assert.equal((await gpusHeld()).length, 2);
  });

  it("enforces the account's instance quota", async () => {
    const acct = await t.server.services.accounts.createAccount(`quota-${Date.now()}`, { instanceQuota: 1 });
    assert.equal((await t.call("CreateCompShareInstance", createParams(), acct.keyPair)).RetCode, 0);
    const r = await t.call("CreateCompShareInstance", createParams(), acct.keyPair);
    assert.equal(r.RetCode, 8046);
    assert.match(String(r.Message), /quota/);
  });
});

describe("DescribeCompShareInstance", () => {
  it("pages with a stable order, default limit 20, max 100; Offset past the total is an error", async () => {
    const big: Catalog = { ...DEFAULT_CATALOG };
    const t2 = await startTestServer({}, { catalog: big });
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
});

describe("Stop / Start", () => {
  it("Stop releases the GPUs; Start takes them again on the same host", async () => {
    const id = await createRunning(t);
    const s = await stopped(id);
    assert.equal(s.SshLoginCommand, "");
    assert.equal((await gpusHeld()).length, 0);
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await t.waitState(id, "Running");
    assert.equal((await gpusHeld()).length, 1);
  });

  it("a call in the wrong state names the state and the allowed states", async () => {
    const id = await createRunning(t);
    const r = await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    assert.equal(r.RetCode, 8041);
    assert.match(
      String(r.Message),
      /is \[Running\]; StartCompShareInstance is allowed only from \[Stopped\]/,
    );
    const nf = await t.call("StopCompShareInstance", { ...Z, UHostId: "uhost-missing1" });
    assert.equal(nf.RetCode, 8039);
    const wrongZone = await t.call("StopCompShareInstance", {
      Region: "cn-bj2",
      Zone: "cn-bj2-02",
      UHostId: id,
    });
    assert.equal(wrongZone.RetCode, 8039);
  });

  it("holds the operation lock until the transition finishes; an expired lock never blocks", async () => {
    const id = await createRunning(t);
    t.server.internals.sim!.latencyMs = 300;
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    const busy = await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    assert.equal(busy.RetCode, 8040);
    assert.match(String(busy.Message), /InstanceOperationInProgress/);
    const rename = await t.call("ModifyCompShareInstanceName", { Region: "cn-wlcb", UHostId: id, Name: "x" });
    assert.match(String(rename.Message), /InstanceOperationInProgress/);
    await t.waitState(id, "Stopped");
    t.server.internals.sim!.latencyMs = 0;
    // A lock left by a crashed worker expires after 10 minutes of (emulated) time.
    await t.server.internals.db.run(
      "UPDATE instances SET operation = 'Start', operation_expires_at = ? WHERE id = ?",
      [t.server.internals.clock.now() + 600_000, id],
    );
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 8040);
    t.server.internals.clock.advance(600_001);
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await t.waitState(id, "Running");
  });

  it("100 concurrent Stop calls on one instance: exactly one RetCode 0", async () => {
    const id = await createRunning(t);
    t.server.internals.sim!.latencyMs = 200;
    const results = await Promise.all(
      Array.from({ length: 100 }, () => t.call("StopCompShareInstance", { ...Z, UHostId: id })),
    );
    assert.equal(results.filter((r) => r.RetCode === 0).length, 1);
    assert.ok(results.every((r) => r.RetCode === 0 || r.RetCode === 8040 || r.RetCode === 8041));
    await t.waitState(id, "Stopped");
    assert.equal(t.server.internals.sim!.calls.stop, 1);
  });

  it("Start needs free GPUs on the instance's own host, else points to WithoutGpu=true", async () => {
    const a = await createRunning(t);
    await stopped(a);
    await createRunning(t);
    await createRunning(t);
    const r = await t.call("StartCompShareInstance", { ...Z, UHostId: a });
    assert.equal(r.RetCode, 8042);
    assert.match(String(r.Message), /Not enough GPUs of type 4090 on this host.*WithoutGpu=true/);
    assert.equal((await t.describeOne(a))?.State, "Stopped", "nothing half-applied");
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: a, WithoutGpu: true })).RetCode, 0);
    const u = await t.waitState(a, "Running");
    assert.equal(u.GPU, 0);
    assert.equal(u.CPU, 2);
    assert.equal(u.Memory, 8192);
    assert.equal(u.InstancePrice, 0.1, "the no-GPU price: 2 CPU × 0.05");
    assert.equal((await gpusHeld()).length, 2);
    const noGpu = await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", WithoutGpu: true });
    assert.deepEqual(
      (noGpu.UHostSet as Array<{ UHostId: string }>).map((x) => x.UHostId),
      [a],
    );
  });

  it("spot instances need Force=true; an instance whose image is being made cannot stop", async () => {
    const spot = await createRunning(t, { ChargeType: "Spot" });
    const r = await t.call("StopCompShareInstance", { ...Z, UHostId: spot });
    assert.equal(r.RetCode, 8043);
    assert.match(String(r.Message), /Force=true/);
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: spot, Force: true })).RetCode, 0);
    const other = await createRunning(t);
    await t.server.internals.db.run("UPDATE instances SET making_image = 1 WHERE id = ?", [other]);
    const img = await t.call("StopCompShareInstance", { ...Z, UHostId: other });
    assert.equal(img.RetCode, 8044);
  });
});

describe("Reboot / Reinstall / Resize", () => {
  it("Reboot: Running → Rebooting → Running; refused when Stopped", async () => {
    const id = await createRunning(t);
    assert.equal((await t.call("RebootCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await t.waitState(id, "Running");
    assert.equal(t.server.internals.sim!.calls.reboot, 1);
    await stopped(id);
    assert.equal((await t.call("RebootCompShareInstance", { ...Z, UHostId: id })).RetCode, 8041);
  });

  it("Reinstall: only Stopped, back to Stopped with the new image", async () => {
    const id = await createRunning(t);
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: id,
          CompShareImageId: "compshareImage-cuda124",
        })
      ).RetCode,
      8041,
    );
    await stopped(id);
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: id,
          CompShareImageId: "compshareImage-nope",
        })
      ).RetCode,
      230,
    );
    assert.equal(
      (
        await t.call("ReinstallCompShareInstance", {
          ...Z,
          UHostId: id,
          CompShareImageId: "compshareImage-cuda124",
          Password: b64("NewPass123"),
        })
      ).RetCode,
      0,
    );
    const u = await t.waitState(id, "Stopped");
    assert.equal(u.CompShareImageId, "compshareImage-cuda124");
    assert.equal(u.Password, b64("NewPass123"));
    assert.equal(t.server.internals.sim!.calls.reinstall, 1);
  });

  it("Resize: a legal spec or a disk grow, never both; stays Stopped", async () => {
    const id = await createRunning(t);
    await stopped(id);
    const both = await t.call("ResizeCompShareInstance", {
      ...Z,
      UHostId: id,
      Gpu: 2,
      DiskId: "x",
      DiskSpace: "100",
    });
    assert.match(String(both.Message), /cannot be combined/);
    const illegal = await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, Gpu: 2 });
    assert.match(String(illegal.Message), /Params \[Cpu\].*choose one of 32/);
    assert.equal(
      (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, Gpu: 2, Cpu: 32, Memory: 131072 }))
        .RetCode,
      0,
    );
    let u = await t.waitState(id, "Stopped");
    assert.deepEqual([u.GPU, u.CPU, u.Memory], [2, 32, 131072]);
    const tooBig = await t.call("ResizeCompShareInstance", {
      ...Z,
      UHostId: id,
      Gpu: 4,
      Cpu: 64,
      Memory: 262144,
    });
    assert.equal(tooBig.RetCode, 8048, String(tooBig.Message));
    const boot = (u.DiskSet as Array<{ DiskId: string; Size: number }>)[0]!;
    assert.match(
      String(
        (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, DiskId: boot.DiskId, DiskSpace: "40" }))
          .Message,
      ),
      /only grow/,
    );
    assert.equal(
      (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, DiskId: boot.DiskId, DiskSpace: "80" }))
        .RetCode,
      0,
    );
    u = await t.waitState(id, "Stopped");
    assert.equal((u.DiskSet as Array<{ Size: number }>)[0]!.Size, 80);
    await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Running");
    assert.equal((await gpusHeld()).length, 2);
    assert.equal(
      (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, Gpu: 1, Cpu: 16, Memory: 65536 }))
        .RetCode,
      8041,
    );
  });
});

describe("Password / Name", () => {
  it("ResetCompShareInstancePassword: base64, checked by the rule, VM only when Stopped", async () => {
    const id = await createRunning(t);
    assert.equal(
      (await t.call("ResetCompShareInstancePassword", { ...Z, UHostId: id, Password: b64("Abcdefgh1") }))
        .RetCode,
      8041,
    );
    await stopped(id);
    assert.match(
      String(
        (await t.call("ResetCompShareInstancePassword", { ...Z, UHostId: id, Password: b64("abcdefgh") }))
          .Message,
      ),
      /at least two/,
    );
    assert.match(
      String(
        (await t.call("ResetCompShareInstancePassword", { ...Z, UHostId: id, Password: b64("Abcdefgh 1") }))
          .Message,
      ),
      /may contain only/,
    );
    assert.equal(
      (await t.call("ResetCompShareInstancePassword", { ...Z, UHostId: id, Password: b64("Abcdefgh1") }))
        .RetCode,
      0,
    );
    assert.equal((await t.describeOne(id))?.Password, b64("Abcdefgh1"));
    const row = await t.server.internals.db.all("SELECT password_sealed FROM instances WHERE id = ?", [id]);
    assert.ok(!String(row[0]?.password_sealed).includes("Abcdefgh1"), "stored encrypted");
  });

  it("container instances may reset the password while running", async () => {
    const id = await createRunning(t, { CompShareImageId: "compshareImage-pytorch21" });
    assert.match(id, /^cpod-/);
    assert.equal((await t.describeOne(id))?.InstanceType, "Container");
    assert.equal(
      (await t.call("ResetCompShareInstancePassword", { ...Z, UHostId: id, Password: b64("Abcdefgh1") }))
        .RetCode,
      0,
    );
  });

  it("ModifyCompShareInstanceName", async () => {
    const id = await createRunning(t);
    assert.equal(
      (
        await t.call("ModifyCompShareInstanceName", {
          Region: "cn-wlcb",
          UHostId: id,
          Name: "训练机-1_a.b,c:d",
        })
      ).RetCode,
      0,
    );
    assert.equal((await t.describeOne(id))?.Name, "训练机-1_a.b,c:d");
    assert.match(
      String(
        (await t.call("ModifyCompShareInstanceName", { Region: "cn-wlcb", UHostId: id, Name: "bad/name" }))
          .Message,
      ),
      /\[Name\]/,
    );
    assert.equal(
      (await t.call("ModifyCompShareInstanceName", { Region: "cn-wlcb", UHostId: id })).RetCode,
      210,
    );
  });
});

describe("Terminate, recycle bin, Recover", () => {
  it("only from Stopped; leaves Describe, enters the bin; data disks kept unless ReleaseUDisk", async () => {
    const id = await createRunning(t, {
      Disks: [
        { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
        { IsBoot: false, Type: "CLOUD_SSD", Size: 100 },
      ],
    });
    assert.equal((await t.call("TerminateCompShareInstance", { ...Z, UHostId: id })).RetCode, 8041);
    await stopped(id);
    const r = await t.call("TerminateCompShareInstance", { ...Z, UHostId: id });
    assert.deepEqual([r.RetCode, r.UHostId, r.InRecycle], [0, id, "Yes"]);
    assert.equal(await t.describeOne(id), undefined);
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.deepEqual(
      (bin.UHostSet as Array<{ UHostId: string }>).map((u) => u.UHostId),
      [id],
    );
    await t.server.internals.worker.drain();
    const disks = await t.server.internals.db.all("SELECT is_boot, state FROM disks WHERE instance_id = ?", [
      id,
    ]);
    assert.deepEqual(
      disks.map((d) => [Number(d.is_boot), d.state]),
      [[0, "Available"]],
      "system disk erased, data disk kept detached",
    );
    assert.equal((await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode, 0);
    const u = await t.waitState(id, "Stopped");
    assert.equal((u.DiskSet as unknown[]).length, 2, "fresh system disk plus the kept data disk");
    assert.equal(
      (await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode,
      8047,
    );
    assert.equal(
      (await t.call("TerminateCompShareInstance", { ...Z, UHostId: id, ReleaseUDisk: true })).RetCode,
      0,
    );
    await t.server.internals.worker.drain();
    assert.equal(
      (await t.server.internals.db.all("SELECT id FROM disks WHERE instance_id = ?", [id])).length,
      0,
    );
  });

  it("the bin is purged after the retention (clock advanced)", async () => {
    const id = await createRunning(t);
    await stopped(id);
    await t.call("TerminateCompShareInstance", { ...Z, UHostId: id });
    await t.call("EmulatorAdvanceClock", { Seconds: 72 * 3600 + 1 });
    await t.server.internals.worker.drain();
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.equal(bin.TotalCount, 0);
    assert.equal(
      (await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode,
      8047,
    );
  });
});

describe("Scheduled stop and Postpay release", () => {
  it("Update/Delete: ≥ now+300 s, not for spot, shown on Describe, fires when the clock reaches it", async () => {
    const id = await createRunning(t);
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    const soon = await t.call("UpdateCompShareStopScheduler", {
      Region: "cn-wlcb",
      UHostId: id,
      StopTime: now + 100,
    });
    assert.match(String(soon.Message), /Params \[StopTime\].*300/);
    assert.equal(
      (
        await t.call("UpdateCompShareStopScheduler", {
          Region: "cn-wlcb",
          UHostId: id,
          SchedulerStopTime: now + 3600,
        })
      ).RetCode,
      0,
    );
    let u = await t.describeOne(id);
    assert.deepEqual(
      [u?.StopTime, u?.StopSchedulerTime, u?.SchedulerStopTime],
      [now + 3600, now + 3600, now + 3600],
    );
    assert.equal(
      (await t.call("DeleteCompShareStopScheduler", { Region: "cn-wlcb", UHostId: id })).RetCode,
      0,
    );
    assert.equal((await t.describeOne(id))?.StopTime, 0);
    await t.call("UpdateCompShareStopScheduler", { Region: "cn-wlcb", UHostId: id, StopTime: now + 600 });
    await t.call("EmulatorAdvanceClock", { Seconds: 601 });
    u = await t.waitState(id, "Stopped");
    assert.equal(u.StopTime, 0, "fired schedule is cleared");
    const spot = await createRunning(t, { ChargeType: "Spot" });
    const r = await t.call("UpdateCompShareStopScheduler", {
      Region: "cn-wlcb",
      UHostId: spot,
      StopTime: now + 3600,
    });
    assert.equal(r.RetCode, 8045);
  });

  it("a manual stop clears the schedule; a held lock is waited out, never skipped", async () => {
    const a = await createRunning(t);
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    await t.call("UpdateCompShareStopScheduler", { Region: "cn-wlcb", UHostId: a, StopTime: now + 600 });
    await stopped(a);
    assert.equal((await t.describeOne(a))?.StopTime, 0);
    assert.equal(
      (
        await t.server.internals.db.all(
          "SELECT id FROM tasks WHERE instance_id = ? AND kind = 'scheduled-stop'",
          [a],
        )
      ).length,
      0,
    );

    const b = await createRunning(t);
    await t.call("UpdateCompShareStopScheduler", { Region: "cn-wlcb", UHostId: b, StopTime: now + 600 });
    t.server.internals.sim!.latencyMs = 400;
    assert.equal((await t.call("RebootCompShareInstance", { ...Z, UHostId: b })).RetCode, 0);
    await t.call("EmulatorAdvanceClock", { Seconds: 601 });
    await t.waitState(b, "Stopped", 8000);
    assert.equal(t.server.internals.sim!.calls.reboot, 1);
  });

  it("a stopped Postpay instance shows ReleaseTime = stop + 7 days and is released then", async () => {
    const id = await createRunning(t, { ChargeType: "Postpay" });
    const u = await stopped(id);
    // The stop completed (UpdateTime) and the release is due 7 days later.
    assert.equal(u.ReleaseTime, (u.UpdateTime as number) + 7 * 86400);
    await t.call("EmulatorAdvanceClock", { Seconds: 7 * 86400 + 1 });
    const deadline = Date.now() + 5000;
    while ((await t.describeOne(id)) !== undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(await t.describeOne(id), undefined);
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.deepEqual(
      (bin.UHostSet as Array<{ UHostId: string }>).map((x) => x.UHostId),
      [id],
    );
    const month = await createRunning(t, { ChargeType: "Month" });
    assert.equal((await stopped(month)).ReleaseTime, 0);
  });
});

describe("races: two concurrent calls of each mutating action", () => {
  it("exactly one is accepted; the other is told the lock is held or the state moved", async () => {
    type Case = [string, Record<string, unknown>, "Running" | "Stopped" | "recycled"];
    const cases: Case[] = [
      ["StartCompShareInstance", {}, "Stopped"],
      ["StopCompShareInstance", {}, "Running"],
      ["RebootCompShareInstance", {}, "Running"],
      ["TerminateCompShareInstance", {}, "Stopped"],
      ["ReinstallCompShareInstance", { CompShareImageId: "compshareImage-cuda124" }, "Stopped"],
      ["ResizeCompShareInstance", { Gpu: 2, Cpu: 32, Memory: 131072 }, "Stopped"],
      ["RecoverCompShareInstance", {}, "recycled"],
    ];
    for (const [action, extra, from] of cases) {
      await t.server.services.emulator?.reset();
      const id = await createRunning(t);
      if (from !== "Running") await stopped(id);
      if (from === "recycled") {
        await t.call("TerminateCompShareInstance", { ...Z, UHostId: id });
        await t.server.internals.worker.drain();
      }
      t.server.internals.sim!.latencyMs = 200;
      const [a, b] = await Promise.all([0, 1].map(() => t.call(action, { ...Z, UHostId: id, ...extra })));
      const codes = [a?.RetCode, b?.RetCode].sort();
      assert.equal(codes[0], 0, `${action}: ${JSON.stringify([a, b])}`);
      // A losing Terminate finds the instance already in the recycle bin: not found (8039).
      assert.ok(
        [8039, 8040, 8041, 8047].includes(codes[1] as number),
        `${action}: ${JSON.stringify([a, b])}`,
      );
      t.server.internals.sim!.latencyMs = 0;
      await t.server.internals.worker.drain();
    }
  });
});

describe("Describe: UDiskIdForAttachment", () => {
  it("lists the instances of the detached disk's zone; an attached or unknown disk lists none", async () => {
    const a = await createRunning(t, {
      Disks: [
        { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
        { IsBoot: false, Type: "CLOUD_SSD", Size: 100 },
      ],
    });
    const b = await createRunning(t);
    const dataDisk = ((await t.describeOne(a))?.DiskSet as Array<{ DiskId: string; IsBoot: string }>).find(
      (d) => d.IsBoot === "False",
    )!.DiskId;
    assert.equal(
      (await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", UDiskIdForAttachment: dataDisk }))
        .TotalCount,
      0,
      "still attached",
    );
    await stopped(a);
    await t.call("TerminateCompShareInstance", { ...Z, UHostId: a });
    await t.server.internals.worker.drain();
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
});

describe("emulator controls", () => {
  it("root only; inject API and driver faults; the failure reason shows in Remark", async () => {
    const acct = await t.server.services.accounts.createAccount(`emu-${Date.now()}`);
    assert.equal((await t.call("EmulatorAdvanceClock", { Seconds: 1 }, acct.keyPair)).RetCode, 299);
    await t.call("EmulatorInjectFault", {
      FaultAction: "StartCompShareInstance",
      RetCode: 2001,
      Message: "injected",
      Count: 1,
    });
    const id = await createRunning(t);
    await stopped(id);
    assert.deepEqual(await t.call("StartCompShareInstance", { ...Z, UHostId: id }), {
      Action: "StartCompShareInstanceResponse",
      RetCode: 2001,
      Message: "injected",
    });
    await t.call("EmulatorInjectFault", {
      Target: "Driver",
      Operation: "start",
      Message: "engine exploded",
      Count: 3,
    });
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    const deadline = Date.now() + 5000;
    let u = await t.describeOne(id);
    while (!String(u?.Remark).includes("engine exploded") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      u = await t.describeOne(id);
    }
    assert.equal(u?.State, "Stopped");
    assert.match(String(u?.Remark), /engine exploded/);
    assert.equal((await gpusHeld()).length, 0, "failed start gave its GPUs back");
    const st = await t.call("EmulatorStatus");
    assert.equal((st.DriverCalls as Record<string, number>).start, 4);
    await t.call("EmulatorReset");
    assert.equal((await t.call("DescribeCompShareInstance", { Region: "cn-wlcb" })).TotalCount, 0);
  });
});
