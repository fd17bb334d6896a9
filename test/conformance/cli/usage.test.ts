import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../helpers.js";
import { createParams, startTestServer } from "../../helpers.js";
import { USAGE_COMMANDS } from "./commands.js";
import { CompshareCli, needsCli, until as untilWithin } from "./harness.js";

type Obj = Record<string, unknown>;
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

/** The CLI suites' shared poll, with this suite's 30 s guard. */
const until = (cond: () => Promise<boolean>) => untilWithin(cond, 30_000);

/**
 * The rest of a user's day through the official CLI (text and --json): data disks from create to
 * delete (the CLI's retry on 8434 included), monitoring, software ports and the two price queries,
 * each step checked against what the server holds.
 */
describe("official CLI (compshare-cli): disks, monitoring, ports, prices", needsCli(), () => {
  let t: TestServer;
  let cli: CompshareCli;
  let a = "";
  let b = "";
  let disk = "";

  const create = async (extra: Obj = {}) => {
    const r = await t.call("CreateCompShareInstance", createParams(extra as never));
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    const id = (r.UHostIds as string[])[0] as string;
    await t.waitState(id, "Running", 10_000);
    return id;
  };
  const stop = async (id: string) => {
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await t.waitState(id, "Stopped", 10_000);
  };
  /** The disk as DescribeCompshareDisk shows it on the server. */
  const onServer = async (id: string) =>
    ((await t.call("DescribeCompshareDisk", {})).DiskSet as Obj[]).find((d) => d.ResourceId === id);
  /** Waits until the disk has finished its operation and shows `status`. */
  const settled = (id: string, status: string) => until(async () => (await onServer(id))?.Status === status);
  const requests = async (action: string, retcode: number) => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const m = text.match(
      new RegExp(`ocs_requests_total\\{action="${action}",retcode="${retcode}"\\} (\\d+)`),
    );
    return Number(m?.[1] ?? 0);
  };

  before(async () => {
    t = await startTestServer({ OCS_SIM_LATENCY_MS: "0" });
    cli = new CompshareCli(t, USAGE_COMMANDS);
    a = await create();
    b = await create();
  });
  after(async () => {
    cli?.close();
    await t?.close();
  });

  it("storage disk create / list / price on a running instance", async () => {
    assert.match(
      await cli.ok([
        "storage",
        "disk",
        "create",
        "--instance",
        a,
        "--size",
        "40GiB",
        "--name",
        "scratch",
        "--charge",
        "Postpay",
        "--yes",
      ]),
      /Created and attached disk scratch/,
    );
    const listed = await cli.json<{ items: Obj[] }>(["storage", "disk", "list"]);
    assert.equal(listed.items.length, 1);
    disk = String(listed.items[0]?.ResourceId);
    assert.deepEqual(listed.items[0], {
      ResourceId: disk,
      Name: "scratch",
      Configuration: "40GB",
      DiskType: "SSDDataDisk",
      Status: "InUse",
      MountInstance: a,
      Zone: "cn-wlcb-01",
    });
    await settled(disk, "InUse");
    assert.match(
      await cli.ok(["storage", "disk", "list", "--instance", a]),
      new RegExp(`${disk}\\s+scratch\\s+40GB\\s+SSDDataDisk\\s+InUse\\s+${a}\\s+cn-wlcb-01`),
    );
    assert.deepEqual(
      (await cli.json<{ items: Obj[] }>(["storage", "disk", "list", "--instance", b])).items,
      [],
    );
    const price = await cli.json<Obj>([
      "storage",
      "disk",
      "price",
      disk,
      "--instance",
      a,
      "--size",
      "100GiB",
    ]);
    // (100 - 40) GB × 0.0003 per GB-hour, the disk's Postpay.
    assert.equal(price.Price, 0.018);
    assert.match(
      await cli.ok(["storage", "disk", "price", disk, "--instance", a, "--size", "100GiB"]),
      /0\.018/,
    );
  });

  it("storage disk resize / detach / attach move the disk; the server follows", async () => {
    await stop(a);
    // No --instance: the CLI finds the disk's instance with DescribeCompshareDisk.
    assert.match(
      await cli.ok(["storage", "disk", "resize", disk, "--size", "80GiB", "--yes"]),
      /Resized disk/,
    );
    await until(
      async () => (await onServer(disk))?.Size === 80 && (await t.describeOne(a))?.State === "Stopped",
    );
    assert.match(
      await cli.ok(["storage", "disk", "detach", disk, "--instance", a, "--device", "/dev/vdb", "--yes"]),
      /Detached disk/,
    );
    await settled(disk, "Available");
    assert.match(await cli.ok(["storage", "disk", "attach", disk, "--instance", b]), /Attached/);
    await settled(disk, "InUse");
    assert.equal((await onServer(disk))?.MountInstance, b);
    assert.equal(
      (await t.describeOne(b))?.State,
      "Running",
      "attached to a running instance, which stays so",
    );
    // A refused call: the server's message, a non-zero exit.
    const refused = await cli.run([
      "--json",
      "storage",
      "disk",
      "detach",
      disk,
      "--instance",
      b,
      "--device",
      "/dev/vdb",
      "--yes",
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout, /DetachCompshareDisk is allowed only from \[Stopped\]/);
  });

  it("storage disk delete retries while the disk is still detaching (8434), then deletes it", async () => {
    await stop(b);
    const sim = t.server.internals.sim;
    assert.ok(sim);
    const held = sim.hold("syncDisks");
    await cli.ok(["storage", "disk", "detach", disk, "--instance", b, "--device", "/dev/vdb", "--yes"]);
    assert.equal((await onServer(disk))?.Status, "Detaching");
    const before = await requests("DeleteCompshareDisk", 8434);
    const deleting = cli.ok(["storage", "disk", "delete", disk, "--yes"]);
    await until(async () => (await requests("DeleteCompshareDisk", 8434)) > before);
    held.release();
    assert.match(await deleting, /still detaching; retrying \(1\/3\)[\s\S]*Deleted disk/);
    assert.equal(await onServer(disk), undefined);
    assert.deepEqual((await cli.json<{ items: Obj[] }>(["storage", "disk", "list"])).items, []);
  });

  it("instance monitor: the collector's readings, per metric", async () => {
    const id = await create();
    assert.equal((await t.call("EmulatorSetLoad", { UHostId: id, Cpu: 42, Gpu: 0 })).RetCode, 0);
    await t.server.services.monitor.collect(t.server.internals.driver);
    assert.match(await cli.ok(["instance", "monitor", id]), new RegExp(`${id}\\s+CPU\\s+42`));
    const data = await cli.json<{ Data: { List: Array<{ UHostId: string; Metrics: Obj[] }> } }>([
      "instance",
      "monitor",
      id,
    ]);
    const metrics = data.Data.List[0]?.Metrics ?? [];
    assert.equal(data.Data.List[0]?.UHostId, id);
    const gpu = metrics.find((m) => m.MetricKey === "cloudwatch_gpu_util") as {
      Results: Array<{ Values: Array<{ Value: number }> }>;
    };
    assert.equal(gpu.Results[0]?.Values[0]?.Value, 0, "the idle GPU the emulator was told of");
  });

  it("instance ports list / software list / ports update", async () => {
    assert.match(await cli.ok(["instance", "ports", "list"]), /JupyterLab\s+8888/);
    const sw = await cli.json<{ items: Obj[] }>(["instance", "software", "list"]);
    assert.deepEqual(sw.items[0], { Software: "SSH", Port: 22 });
    const cpod = await create({ CompShareImageId: "compshareImage-pytorch21" });
    assert.match(
      await cli.ok([
        "instance",
        "ports",
        "update",
        cpod,
        "--http",
        "8188",
        "--http",
        "6006",
        "--tcp",
        "2323",
        "--yes",
      ]),
      /Updated port mappings/,
    );
    await until(async () => {
      const rows = await t.server.internals.db.all("SELECT ports, operation FROM instances WHERE id = ?", [
        cpod,
      ]);
      return (
        rows[0]?.operation === null && rows[0]?.ports === JSON.stringify({ http: [8188, 6006], tcp: [2323] })
      );
    });
  });

  it("instance resize-price and refund", async () => {
    const price = await cli.json<Obj>([
      "instance",
      "resize-price",
      a,
      "--cpu",
      "32",
      "--memory",
      "128GiB",
      "--gpu",
      "2",
    ]);
    assert.equal(price.Price, 2.05);
    assert.match(
      await cli.ok(["instance", "resize-price", a, "--gpu", "2", "--cpu", "32", "--memory", "128GiB"]),
      /2\.05/,
    );
    assert.match(await cli.ok(["instance", "refund", a]), new RegExp(`${a}\\s+0\\s+0`));
    const refund = await cli.json<{ items: Obj[] }>(["instance", "refund", a, b]);
    assert.deepEqual(
      refund.items.map((r) => [r.UHostId, r.Code, r.RefundPrice]),
      [
        [a, 0, 0],
        [b, 0, 0],
      ],
    );
  });

  it("ran every command it claims", () => {
    cli.assertAllRan();
  });
});
