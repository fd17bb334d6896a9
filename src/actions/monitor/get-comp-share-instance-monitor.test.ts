import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { ROOT } from "../../../test/helpers.js";
import { dispatch } from "../../api/gateway.js";
import { ensureMonitorTask } from "../../core/monitor/monitor.js";
import { computeSignature } from "../../protocol/signature.js";
import { InstanceFixture } from "../instances/fixtures.test-support.js";

const fx = new InstanceFixture();
const R = { Region: "cn-wlcb" };

// The ticks are this file's to make: the background collector's row (due again after each reset)
// would add samples whenever a drain happens to run it.
beforeEach(async () => {
  await fx.t.server.internals.db.run("DELETE FROM tasks WHERE kind = 'monitor-sample'");
});

type Metric = {
  MetricKey: string;
  Tags: Record<string, string[]>;
  Results: Array<{
    ResourceId: string;
    TagMap: Record<string, string>;
    Values: Array<{ Timestamp: number; Value: number }>;
  }>;
};
type Entry = { UHostId: string; Metrics: Metric[] };

/** One collector tick at the emulator clock's now, then the clock moved on by the interval. */
async function tick(): Promise<void> {
  const { internals, services } = fx.t.server;
  await services.monitor.collect(internals.driver);
  internals.clock.advance(services.monitor.options.intervalMs);
}

async function monitor(params: Record<string, unknown>): Promise<Entry[]> {
  const r = await fx.t.call("GetCompShareInstanceMonitor", { ...R, ...(params as Record<string, string>) });
  assert.equal(r.RetCode, 0, JSON.stringify(r));
  assert.deepEqual((r.Data as { PodList: unknown[] }).PodList, []);
  return (r.Data as { List: Entry[] }).List;
}

const metric = (e: Entry | undefined, key: string) => e?.Metrics.find((m) => m.MetricKey === key);

describe("GetCompShareInstanceMonitor", () => {
  it("the documented keys for a running instance, per GPU it holds, per data disk; deterministic on the emulator clock", async () => {
    const id = await fx.running({
      Disks: [
        { IsBoot: true, Type: "CLOUD_SSD", Size: 50 },
        { IsBoot: false, Type: "CLOUD_SSD", Size: 100 },
      ],
    });
    for (let i = 0; i < 3; i++) await tick();
    const [e] = await monitor({ UHostIds: [id] });
    assert.equal(e?.UHostId, id);
    assert.deepEqual(
      e?.Metrics.map((m) => m.MetricKey),
      [
        "uhost_cpu_used",
        "cloudwatch_memory_usage",
        "cloudwatch_sys_disk_used_per",
        "cloudwatch_data_disk_used_per",
        "cloudwatch_gpu_util",
        "cloudwatch_gpu_memory_usage",
        "uhost_net_in",
        "uhost_net_out",
        "uhost_disk_read",
        "uhost_disk_write",
      ],
    );
    const cpu = metric(e, "uhost_cpu_used");
    assert.equal(cpu?.Results.length, 1);
    assert.equal(cpu?.Results[0]?.ResourceId, id);
    assert.equal(cpu?.Results[0]?.Values.length, 3, "three ticks in the last 60 s");
    const gpu = metric(e, "cloudwatch_gpu_util");
    assert.equal(gpu?.Results.length, 1, "one GPU held");
    assert.match(String(gpu?.Results[0]?.TagMap.gpu_bus_id), /^00000000:[0-9A-F]{2}:00\.0$/);
    assert.deepEqual(gpu?.Tags.uuid, [gpu?.Results[0]?.TagMap.uuid]);
    const data = metric(e, "cloudwatch_data_disk_used_per");
    assert.match(String(data?.Results[0]?.TagMap.mount), /^\/mnt\/bs-/);
    // The sim's readings are a function of the instance and the emulator clock.
    const again = await fx.t.server.internals.driver.sample?.(
      [{ id, hostId: "h1", gpus: [], cpu: 16, memoryMB: 65536, bootGB: 50, dataDisks: [] }],
      (cpu?.Results[0]?.Values[0]?.Timestamp ?? 0) * 1000,
    );
    assert.ok(again?.[0]?.cpu !== undefined);
    for (const v of cpu?.Results[0]?.Values ?? []) assert.ok(v.Value >= 0 && v.Value <= 100);
  });

  it("EmulatorSetLoad pins the readings (an idle GPU); Describe's MonitorMessages shows the newest sample", async () => {
    const { t } = fx;
    const id = await fx.running();
    const u0 = await fx.describe(id);
    assert.deepEqual(
      u0?.MonitorMessages,
      { CpuUsageRate: "", MemUsageRate: "", GpuInfo: [] },
      "no sample yet",
    );
    assert.equal(
      (await t.call("EmulatorSetLoad", { UHostId: id, Cpu: 90, Gpu: 0, GpuMemory: 12.5 })).RetCode,
      0,
    );
    await tick();
    const u = await fx.describe(id);
    assert.deepEqual(u?.MonitorMessages, {
      CpuUsageRate: "90.00",
      MemUsageRate: (u?.MonitorMessages as { MemUsageRate: string }).MemUsageRate,
      GpuInfo: [{ GPU: "0", GpuUsageRate: "0.00", MemoryUsageRate: "12.50" }],
    });
    const [e] = await monitor({ UHostIds: [id] });
    assert.equal(metric(e, "cloudwatch_gpu_util")?.Results[0]?.Values[0]?.Value, 0);
    assert.equal(metric(e, "uhost_cpu_used")?.Results[0]?.Values[0]?.Value, 90);
    assert.equal((await t.call("EmulatorSetLoad", { UHostId: id, Clear: true })).RetCode, 0);
    await tick();
    const [after] = await monitor({ UHostIds: [id] });
    assert.notEqual(metric(after, "uhost_cpu_used")?.Results[0]?.Values.at(-1)?.Value, 90);
    assert.equal((await t.call("EmulatorSetLoad", { UHostId: "uhost-nothere", Cpu: 1 })).RetCode, 8039);
    assert.equal((await t.call("EmulatorSetLoad", { UHostId: id })).RetCode, 230);
    assert.equal((await t.call("EmulatorSetLoad", { UHostId: id, Cpu: 101 })).RetCode, 230);
  });

  it("StartTime/EndTime for one instance; several instances get the last 60 s; at most 10", async () => {
    const { t } = fx;
    const a = await fx.running();
    const b = await fx.running();
    const start = Math.floor(t.server.internals.clock.now() / 1000);
    for (let i = 0; i < 12; i++) await tick();
    const end = Math.floor(t.server.internals.clock.now() / 1000);
    const [one] = await monitor({ UHostIds: [a], StartTime: start, EndTime: end });
    assert.equal(metric(one, "uhost_cpu_used")?.Results[0]?.Values.length, 12);
    const both = await monitor({ UHostIds: [a, b], StartTime: start, EndTime: end });
    assert.deepEqual(
      both.map((x) => x.UHostId),
      [a, b],
    );
    // The last 60 s only: six ticks, or five when the (real-time based) clock moved on a little.
    const recent = metric(both[0], "uhost_cpu_used")?.Results[0]?.Values.length ?? 0;
    assert.ok(recent >= 5 && recent <= 6, `the last 60 s only, got ${recent}`);
    const backwards = await t.call("GetCompShareInstanceMonitor", {
      ...R,
      UHostIds: [a],
      StartTime: end,
      EndTime: start,
    });
    assert.match(String(backwards.Message), /\[StartTime\].*after EndTime/);
    const eleven = Array.from({ length: 11 }, (_, i) => `uhost-x${i}`);
    const many = await t.call("GetCompShareInstanceMonitor", { ...R, UHostIds: eleven });
    assert.match(String(many.Message), /Params \[UHostIds\].*at most 10/);
    assert.equal(
      (await t.call("GetCompShareInstanceMonitor", { ...R, UHostIds: ["uhost-nothere"] })).RetCode,
      8039,
    );
    const elsewhere = await t.call("GetCompShareInstanceMonitor", { Region: "cn-bj2", UHostIds: [a] });
    assert.equal(elsewhere.RetCode, 8039, "Region must be the instance's (docs)");
    assert.equal((await t.call("GetCompShareInstanceMonitor", { UHostIds: [a] })).RetCode, 210);
    const all = await monitor({});
    assert.deepEqual(all.map((x) => x.UHostId).sort(), [a, b].sort(), "no UHostIds: the project's instances");
  });

  it("a stopped instance is not sampled; samples past the retention are dropped", async () => {
    const { t } = fx;
    const id = await fx.running();
    await tick();
    await fx.stopped(id);
    t.server.internals.clock.advance(120_000);
    await tick();
    const [e] = await monitor({ UHostIds: [id] });
    assert.deepEqual(e?.Metrics, [], "nothing in the last 60 s");
    const count = async () =>
      Number((await t.server.internals.db.all("SELECT COUNT(*) AS n FROM monitor_samples"))[0]?.n);
    assert.equal(await count(), 1);
    t.server.internals.clock.advance(t.server.services.monitor.options.retentionMs);
    await tick();
    assert.equal(await count(), 0);
  });

  it("the official CLI's form: JSON with UHostIds a native array, signed over the ids joined", async () => {
    const id = await fx.running();
    await tick();
    const body: Record<string, unknown> = {
      Action: "GetCompShareInstanceMonitor",
      Region: "cn-wlcb",
      Zone: "cn-wlcb-01",
      UHostIds: [id],
      PublicKey: ROOT.publicKey,
    };
    body.Signature = computeSignature({ ...body, UHostIds: id } as never, ROOT.privateKey);
    const r = await dispatch(
      fx.t.server.gateway,
      "req-1",
      "POST",
      "",
      Buffer.from(JSON.stringify(body)),
      "application/json",
    );
    assert.equal(r.body.RetCode, 0, JSON.stringify(r.body));
    assert.equal((r.body.Data as { List: Entry[] }).List[0]?.UHostId, id);
  });

  it("the collector is the recurring monitor-sample task: it samples when due and comes back an interval later", async () => {
    const { t } = fx;
    const id = await fx.running();
    const { db, clock, store } = t.server.internals;
    await store.tx((r) => ensureMonitorTask(r, clock.now()));
    const due = async () =>
      Number((await db.all("SELECT due_at FROM tasks WHERE kind = 'monitor-sample'"))[0]?.due_at);
    clock.advance(Math.max(0, (await due()) - clock.now()));
    await fx.settle();
    assert.ok((await due()) > clock.now(), "postponed by one interval");
    const [e] = await monitor({ UHostIds: [id] });
    assert.equal(metric(e, "uhost_cpu_used")?.Results[0]?.Values.length, 1);
    assert.deepEqual(
      Object.keys(await db.all("SELECT id FROM tasks WHERE kind = 'monitor-sample'")),
      ["0"],
      "one row",
    );
  });
});
