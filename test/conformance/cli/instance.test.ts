import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../helpers.js";
import { startTestServer } from "../../helpers.js";
import { INSTANCE_COMMANDS } from "./commands.js";
import { CompshareCli, needsCli, until } from "./harness.js";

type Obj = Record<string, unknown>;

const Z = ["--region", "cn-wlcb", "--zone", "cn-wlcb-01"];
const SPEC = ["--gpu", "4090", "--cpu", "16", "--memory", "64GiB"];

/**
 * A user's day with one instance, through the official CLI only (text and --json), each step checked
 * against what the server holds. The CLI's waits poll every 3 s, so transitions are instant here.
 */
describe("official CLI (compshare-cli): a day with one instance", needsCli(), () => {
  let t: TestServer;
  let cli: CompshareCli;
  let id = "";
  const server = async () => (await t.describeOne(id)) as Obj;
  /** How many Describe calls the server has answered (its /metrics). */
  const describeCalls = async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const m = text.match(/ocs_requests_total\{action="DescribeCompShareInstance",retcode="0"\} (\d+)/);
    return Number(m?.[1] ?? 0);
  };

  before(async () => {
    t = await startTestServer({ OCS_SIM_LATENCY_MS: "0" });
    cli = new CompshareCli(t, INSTANCE_COMMANDS);
  });
  after(async () => {
    cli?.close();
    await t?.close();
  });

  it("doctor: every check passes against the server", async () => {
    assert.match(await cli.ok(["doctor"]), /API\s+Success\s+Connected; 5 availability zones returned/);
    const d = await cli.json<{ checks: Array<{ Check: string; Status: string }> }>(["doctor"]);
    assert.equal(d.checks.find((c) => c.Check === "API")?.Status, "Success");
  });

  it("zones, families, search with stock, price", async () => {
    assert.match(await cli.ok(["instance", "zones"]), /cn-wlcb\s+cn-wlcb-01/);
    const zones = await cli.json<{ items: Obj[] }>(["instance", "zones"]);
    assert.ok(zones.items.some((z) => z.Region === "us-den" && z.Zone === "us-den-01"));

    assert.match(await cli.ok(["instance", "families"]), /4090\s+NVIDIA GeForce RTX 4090 24GB/);
    const fam = await cli.json<{ items: Obj[] }>(["instance", "families"]);
    assert.deepEqual(
      fam.items.map((f) => f.Name),
      ["4090", "5090", "3090", "3080Ti", "4090_48G", "A800"],
    );

    // With --image the CLI checks real stock (CheckCompShareResourceCapacity, memory in GB).
    const search = ["instance", "search", ...Z, "--gpu", "4090", "--image", "compshareImage-ubuntu2204"];
    assert.match(
      await cli.ok([...search, "--available"]),
      /4090\s+1\s+24GiB\s+16\s+64GiB\s+cn-wlcb-01\s+yes/,
    );
    const found = await cli.json<{
      Inventory: Record<string, Array<{ Gpu: number; ResourceEnough: boolean }>>;
    }>(search);
    assert.deepEqual(
      found.Inventory["4090"]?.map((s) => [s.Gpu, s.ResourceEnough]),
      [
        [1, true],
        [2, true],
        [4, true],
        [8, true],
      ],
    );

    const price = ["instance", "price", ...Z, ...SPEC];
    assert.match(await cli.ok(price), /Postpay\s+2\.05\s+0\.03\s+0\s+0/);
    const quoted = await cli.json<{ items: Obj[] }>([...price, "--charge", "Month"]);
    assert.deepEqual(quoted.items, [
      { ChargeType: "Month", Instance: 1150, SystemDisks: 21.6, Disks: 0, CompShareImage: 0 },
    ]);
  });

  it("create --yes --wait: Running, and list / show / wait agree with the server", async () => {
    const created = await cli.json<{ UHostIds?: string[]; instances?: string[] } & Obj>([
      "instance",
      "create",
      ...Z,
      ...SPEC,
      "--count",
      "1",
      "--image",
      "compshareImage-ubuntu2204",
      "--charge",
      "Postpay",
      "--name",
      "cli-day",
      "--remark",
      "made by the official CLI",
      "--yes",
      "--wait",
    ]);
    id = String(JSON.stringify(created).match(/uhost-[a-z0-9]{8}/)?.[0]);
    assert.match(id, /^uhost-/);
    const u = await server();
    assert.equal(u.State, "Running");
    assert.equal(u.Name, "cli-day");
    assert.equal(u.Remark, "made by the official CLI");

    assert.match(
      await cli.ok(["instance", "list"]),
      new RegExp(`${id}\\s+cli-day\\s+Running\\s+4090\\s+1\\s+16`),
    );
    const list = await cli.json<{ items: Obj[] }>(["instance", "list"]);
    assert.deepEqual(
      list.items.map((i) => [i.UHostId, i.State]),
      [[id, "Running"]],
    );
    assert.match(await cli.ok(["instance", "show", id]), /STATE\s+Running/);
    const shown = await cli.json<Obj>(["instance", "show", id, "--spec"]);
    assert.match(JSON.stringify(shown), /"CPU":16/);
    assert.match(await cli.ok(["instance", "wait", id, "--state", "Running"]), /Succeeded/);
  });

  it("stop, start, start --without-gpu A, reboot: each waits for the end state", async () => {
    assert.match(await cli.ok(["instance", "stop", id, "--yes", "--wait"]), new RegExp(`${id}\\s+Succeeded`));
    assert.equal((await server()).State, "Stopped");
    await cli.json(["instance", "start", id, "--wait"]);
    assert.equal((await server()).GPU, 1);
    await cli.ok(["instance", "stop", id, "--yes", "--wait"]);
    await cli.ok(["instance", "start", id, "--without-gpu", "A", "--wait"]);
    let u = await server();
    assert.deepEqual([u.State, u.GPU, u.CPU, u.Memory], ["Running", 0, 2, 8192]);
    await cli.json(["instance", "reboot", id, "--yes", "--wait"]);
    u = await server();
    assert.equal(u.State, "Running");
    assert.equal(t.server.internals.sim?.calls.reboot, 1);
    // A refused call: the CLI reports the server's RetCode and message and exits non-zero.
    const again = await cli.run(["--json", "instance", "start", id]);
    assert.notEqual(again.code, 0);
    assert.match(again.stdout, /is \[Running\]; StartCompShareInstance is allowed only from \[Stopped\]/);
  });

  it("rename and password (option and prompt)", async () => {
    assert.match(await cli.ok(["instance", "rename", id, "renamed-by-cli"]), /Renamed/);
    assert.equal((await server()).Name, "renamed-by-cli");
    await cli.json(["instance", "rename", id, "again-by-cli"]);
    assert.equal((await server()).Name, "again-by-cli");

    await cli.ok(["instance", "stop", id, "--yes", "--wait"]);
    await cli.ok(["instance", "password", id, "--password", "Cli-Passw0rd!", "--yes"]);
    assert.equal((await server()).Password, Buffer.from("Cli-Passw0rd!").toString("base64"));
    // Typed at the prompt (twice, as the CLI asks to confirm), as a user does.
    await cli.ok(["instance", "password", id, "--yes"], "Prompt-Passw0rd1\nPrompt-Passw0rd1\n");
    assert.equal((await server()).Password, Buffer.from("Prompt-Passw0rd1").toString("base64"));
  });

  it("reinstall --wait returns only once the reinstall is over; resize compute and no-GPU", async () => {
    const sim = t.server.internals.sim;
    assert.ok(sim);
    // The reinstall is held in the driver until the CLI's wait loop has polled at least once, so
    // the CLI sees it in progress (Reinstalling; it would take Install for a finished state).
    const held = sim.hold("reinstall");
    const polls = await describeCalls();
    const running = cli.ok([
      "instance",
      "reinstall",
      id,
      "--image",
      "compshareImage-cuda124",
      "--yes",
      "--wait",
    ]);
    // One Describe locates the instance, the next is the wait loop's first poll.
    await until(async () => held.waiting() === 1 && (await describeCalls()) >= polls + 2);
    held.release();
    assert.match(await running, /Waiting for .*: Reinstalling/);
    const u = await server();
    assert.deepEqual([u.State, u.CompShareImageId], ["Stopped", "compshareImage-cuda124"]);

    await cli.ok([
      "instance",
      "resize",
      id,
      "--cpu",
      "32",
      "--memory",
      "128GiB",
      "--gpu",
      "2",
      "--yes",
      "--wait",
    ]);
    assert.deepEqual([(await server()).GPU, (await server()).CPU, (await server()).Memory], [2, 32, 131072]);
    await cli.json(["instance", "resize", id, "--without-gpu", "B", "--yes", "--wait"]);
    await cli.ok(["instance", "start", id, "--wait"]);
    const b = await server();
    assert.deepEqual([b.State, b.GPU, b.CPU, b.Memory], ["Running", 0, 4, 16384]);
  });

  it("schedule set / show / extend / cancel", async () => {
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    assert.match(await cli.ok(["instance", "schedule", "set", id, "--at", "2h"]), /Scheduled shutdown/);
    const first = Number((await server()).SchedulerStopTime);
    assert.ok(Math.abs(first - (now + 7200)) < 60, `${first} is about now + 2 h`);
    assert.match(await cli.ok(["instance", "schedule", "show", id]), new RegExp(`UNIX\\s+${first}`));
    const shown = await cli.json<Obj>(["instance", "schedule", "show", id]);
    assert.match(JSON.stringify(shown), new RegExp(String(first)));
    await cli.ok(["instance", "schedule", "extend", id, "--by", "1h"]);
    assert.equal((await server()).SchedulerStopTime, first + 3600);
    await cli.json(["instance", "schedule", "extend", id, "--by", "30m"]);
    assert.equal((await server()).SchedulerStopTime, first + 5400);
    await cli.ok(["instance", "schedule", "cancel", id, "--yes"]);
    assert.equal((await server()).SchedulerStopTime, 0);
    assert.match(await cli.ok(["instance", "schedule", "show", id]), /Not scheduled/);
  });

  it("ssh --print: the server's login command and password", async () => {
    const u = await server();
    const shown = await cli.json<{ command: string; password: string }>([
      "--show-sensitive",
      "instance",
      "ssh",
      id,
      "--print",
    ]);
    // The CLI adds a connect timeout to the server's SshLoginCommand.
    assert.equal(shown.command, String(u.SshLoginCommand).replace(/^ssh /, "ssh -o ConnectTimeout=30 "));
    assert.equal(shown.password, Buffer.from(String(u.Password), "base64").toString());
    assert.match(await cli.ok(["instance", "ssh", id, "--print"]), /"command": "\*\*\*"/);
  });

  it("image list / show", async () => {
    assert.match(await cli.ok(["image", "list"]), /compshareImage-ubuntu2204\s+Ubuntu 22.04\s+System/);
    const images = await cli.json<{ items: Obj[] }>(["image", "list", "--all"]);
    assert.deepEqual(
      images.items.map((i) => i.CompShareImageId),
      ["compshareImage-ubuntu2204", "compshareImage-cuda124", "compshareImage-pytorch21"],
    );
    assert.match(await cli.ok(["image", "show", "compshareImage-pytorch21"]), /TYPE\s+App/);
    const one = await cli.json<{ image: Obj }>(["image", "show", "compshareImage-cuda124"]);
    assert.equal(one.image.Name, "CUDA 12.4");
  });

  it("delete --wait: stopped first, then gone from the list (into the recycle bin)", async () => {
    await cli.ok(["instance", "stop", id, "--yes", "--wait"]);
    assert.match(
      await cli.ok(["instance", "delete", id, "--yes", "--wait"]),
      new RegExp(`${id}\\s+Succeeded`),
    );
    assert.equal(await t.describeOne(id), undefined);
    const bin = await t.call("DescribeCompShareRecycleInstance", { Region: "cn-wlcb" });
    assert.deepEqual(
      (bin.UHostSet as Obj[]).map((u) => u.UHostId),
      [id],
    );
    const list = await cli.json<{ items: Obj[] }>(["instance", "list"]);
    assert.deepEqual(list.items, []);
  });

  it("create --max-count 2 makes both; stop and delete take several ids at once", async () => {
    const made = await cli.json<Obj>([
      "instance",
      "create",
      ...Z,
      ...SPEC,
      "--image",
      "compshareImage-ubuntu2204",
      "--charge",
      "Postpay",
      "--count",
      "1",
      "--max-count",
      "2",
      "--yes",
      "--wait",
    ]);
    const ids = [...new Set(JSON.stringify(made).match(/uhost-[a-z0-9]{8}/g))];
    assert.equal(ids.length, 2, JSON.stringify(made));
    for (const i of ids) assert.equal((await t.describeOne(i))?.State, "Running");
    await cli.ok(["instance", "stop", ...ids, "--yes", "--wait"]);
    await cli.ok(["instance", "delete", ...ids, "--yes", "--wait"]);
    for (const i of ids) assert.equal(await t.describeOne(i), undefined);
  });

  it("ran every command it claims", () => {
    cli.assertAllRan();
  });
});
