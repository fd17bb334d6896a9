import assert from "node:assert/strict";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../test/helpers.js";
import { ROOT, createParams, startTestServer } from "../../test/helpers.js";
import { parseTime } from "./helpers.js";
import { runOcs } from "./ocs.test-support.js";

/** `ocs instance create` for one 1 × 4090 instance of the default catalog. */
const CREATE = [
  "instance",
  "create",
  "--gpu-type",
  "4090",
  "--gpu",
  "1",
  "--cpu",
  "16",
  "--memory",
  "65536",
  "--image",
  "compshareImage-ubuntu2204",
];

let t: TestServer;
let xdg: string;

before(async () => {
  t = await startTestServer({ OCS_SIM_LATENCY_MS: "100" });
  xdg = mkdtempSync(join(tmpdir(), "ocs-xdg-"));
});
after(async () => {
  await t.close();
});

/** Runs the `ocs` binary with this test's profile directory. */
function ocs(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return runOcs(args, { XDG_CONFIG_HOME: xdg, ...env });
}

describe("ocs user commands against a running server", () => {
  it("configure writes a 0600 profile that later commands use", async () => {
    const r = await ocs([
      "configure",
      "--base-url",
      t.url,
      "--public-key",
      ROOT.publicKey,
      "--private-key",
      ROOT.privateKey,
      "--region",
      "cn-wlcb",
    ]);
    assert.equal(r.code, 0, r.err);
    const path = join(xdg, "opencompshare", "profile.json");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const p = await ocs(["project", "list"]);
    assert.equal(p.code, 0, p.err);
    assert.match(p.out, /^PROJECT\s+NAME\s+DEFAULT\s+INSTANCES\norg-[a-z0-9]{6}\s+Default\s+yes\s+0\n$/);
  });

  it("a whole lifecycle: create → Running → stop → start --without-gpu → schedule-stop → terminate → recover", async () => {
    const created = await ocs([
      ...CREATE,
      "--charge-type",
      "Postpay",
      "--name",
      "cli-demo",
      "--wait",
      "--output",
      "json",
    ]);
    assert.equal(created.code, 0, created.err);
    const inst = JSON.parse(created.out) as { UHostId: string; State: string };
    assert.equal(inst.State, "Running");
    assert.match(created.err, /✓ uhost-[a-z0-9]+: Running/);
    const id = inst.UHostId;

    const list = await ocs(["instance", "list"]);
    assert.match(
      list.out,
      new RegExp(
        `${id}\\s+cli-demo\\s+Running\\s+1×4090\\s+16\\s+64G\\s+Postpay\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(\\d+s ago\\)`,
      ),
    );

    const stop = await ocs(["instance", "stop", id, "--wait"]);
    assert.equal(stop.code, 0, stop.err);
    assert.match(stop.out, /stop accepted, now Stopped/);
    const start = await ocs(["instance", "start", id, "--without-gpu", "--wait", "--output", "json"]);
    assert.equal(start.code, 0, start.err);
    assert.equal(JSON.parse(start.out).GPU, 0);
    const sched = await ocs(["instance", "schedule-stop", id, "+2h"]);
    assert.equal(sched.code, 0, sched.err);
    assert.match(sched.out, /stop scheduled for .* \(in (2h|120m)\)/);
    const get = await ocs(["instance", "get", id]);
    assert.match(get.out, /Scheduled stop\s+\d{4}-.* \(in 2h\)/);
    assert.match(get.out, /GPU\s+0 × 4090 \(started without GPU\)/);
    assert.equal((await ocs(["instance", "cancel-schedule", id])).code, 0);
    assert.equal((await ocs(["instance", "stop", id, "--wait"])).code, 0);
    const term = await ocs(["instance", "terminate", id]);
    assert.equal(term.code, 0, term.err);
    const bin = await ocs(["recycle", "list"]);
    assert.match(bin.out, new RegExp(`${id}\\s+cli-demo\\s+1×4090`));
    const rec = await ocs(["recycle", "recover", id, "--wait"]);
    assert.equal(rec.code, 0, rec.err);
    assert.match(rec.out, /recovered, now Stopped/);
  });

  it("instance watch: an instance's events as they commit, from an event id on", async () => {
    const created = await ocs([...CREATE, "--wait", "--json"]);
    const id = JSON.parse(created.out).UHostId as string;
    const history = await ocs(["instance", "watch", id, "--since", "0", "--count", "4"]);
    assert.equal(history.code, 0, history.err);
    const lines = history.out.trim().split("\n");
    assert.match(lines[0] ?? "", new RegExp(`#\\d+  ${id}  created "4090-instance" \\(Install\\)$`));
    assert.match(lines[1] ?? "", /Create started: Install$/);
    assert.match(lines[3] ?? "", /Create finished: Running$/);
    const since = Number(/#(\d+)/.exec(lines[3] ?? "")?.[1]);
    // Started before the stop: it follows the stream live and exits after three events.
    const watching = ocs([
      "instance",
      "watch",
      id,
      "--since",
      String(since),
      "--count",
      "3",
      "--output",
      "json",
    ]);
    assert.equal((await ocs(["instance", "stop", id])).code, 0);
    const live = await watching;
    assert.equal(live.code, 0, live.err);
    const events = live.out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { Seq: number; Kind: string; Data: Record<string, unknown> });
    assert.deepEqual(
      events.map((e) => e.Kind),
      ["operation.started", "gpus.released", "operation.finished"],
    );
    assert.ok((events[0]?.Seq ?? 0) > since);
    assert.equal(events[2]?.Data.state, "Stopped");
  });

  it("error paths: bad key, wrong state, lock held, usage — RetCode and message, non-zero exit", async () => {
    const bad = await ocs(["project", "list"], { OCS_PRIVATE_KEY: "wrong-key" });
    assert.equal(bad.code, 1);
    assert.match(bad.err, /RetCode 171: Signature VerifyAC Error/);
    const created = await ocs([...CREATE, "--wait", "--output", "json"]);
    const id = JSON.parse(created.out).UHostId as string;
    const wrong = await ocs(["instance", "start", id]);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.err,
      /RetCode 8041: Instance uhost-\w+ is \[Running\]; StartCompShareInstance is allowed only from \[Stopped\]/,
    );
    // The stop is held inside the driver, so its lock is held however slowly the CLI starts.
    const stopping = t.server.internals.sim?.hold("stop");
    try {
      assert.equal((await ocs(["instance", "stop", id])).code, 0);
      const locked = await ocs(["instance", "reboot", id, "--output", "json"]);
      assert.equal(locked.code, 1);
      assert.equal(JSON.parse(locked.out).RetCode, 8040);
      assert.match(locked.err, /InstanceOperationInProgress/);
    } finally {
      stopping?.release();
    }
    const missing = await ocs(["instance", "create", "--gpu-type", "4090"]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /missing --gpu/);
    assert.equal((await ocs(["instance", "frobnicate"])).code, 2);
    assert.equal((await ocs(["instance", "get"])).code, 2);
    const help = await ocs(["instance", "resize", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /Example: ocs instance resize/);
    const notFound = await ocs(["instance", "get", "uhost-nothere1"]);
    assert.equal(notFound.code, 1);
    assert.match(notFound.err, /RetCode 8039/);
  });

  it("parsing: global flags before the command, unknown flags, a missing value, --", async () => {
    // No profile: endpoint and keys come only from flags, written before the command words.
    const bare = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), "ocs-xdg-")) };
    const keys = ["--public-key", ROOT.publicKey, "--private-key", ROOT.privateKey];
    const before = await ocs(["--base-url", t.url, ...keys, "--output", "json", "project", "list"], bare);
    assert.equal(before.code, 0, before.err);
    assert.equal(JSON.parse(before.out)[0].ProjectName, "Default");
    const mixed = await ocs(["--base-url", t.url, "project", "list", ...keys, "--json"], bare);
    assert.equal(mixed.code, 0, mixed.err);
    assert.equal(JSON.parse(mixed.out)[0].ProjectName, "Default");

    const unknown = await ocs(["instance", "list", "--limt", "5"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown option '--limt'/);
    assert.equal(unknown.out, "");
    assert.equal((await ocs(["--verbose", "instance", "list"])).code, 2);
    // The old parser took an unknown flag's next word as its value: here the UHostId.
    const typo = await ocs(["instance", "stop", "--forse", "uhost-abc123de"]);
    assert.equal(typo.code, 2);
    assert.match(typo.err, /unknown option '--forse'[\s\S]*Did you mean --force\?/);

    // A flag whose value is missing does not take the next flag as its value, in the middle or at the end.
    const gap = await ocs(["image", "list", "--name", "--type", "System"]);
    assert.equal(gap.code, 2);
    assert.match(gap.err, /option '--name <TEXT>' argument missing \(found '--type' in its place\)/);
    assert.equal(gap.out, "");
    const end = await ocs(["instance", "list", "--limit"]);
    assert.equal(end.code, 2);
    assert.match(end.err, /option '--limit <N>' argument missing/);
    const attached = await ocs(["image", "list", "--name=--type"]);
    assert.equal(attached.code, 0, attached.err);
    assert.match(attached.out, /^IMAGE\s+NAME\s+TYPE\s+STATUS\s+KIND\s+SIZE\s+OWNER\s+CREATED\n$/);

    // After `--` every word is an argument, even one that looks like a flag.
    const created = await ocs([...CREATE, "--wait", "--json"]);
    const id = JSON.parse(created.out).UHostId as string;
    const renamed = await ocs(["instance", "rename", id, "--", "--odd-name"]);
    assert.equal(renamed.code, 0, renamed.err);
    assert.equal(JSON.parse((await ocs(["instance", "get", "--json", "--", id])).out).Name, "--odd-name");
    const literal = await ocs(["instance", "get", "--", "--json"]);
    assert.equal(literal.code, 1);
    assert.match(literal.err, /RetCode 8039: UHostId --json not found/);
    assert.equal(literal.out, "");
  });

  it("catalog commands", async () => {
    assert.match(
      (await ocs(["image", "list"])).out,
      /compshareImage-ubuntu2204\s+Ubuntu 22\.04\s+System\s+Available\s+vm/,
    );
    assert.match(
      (await ocs(["type", "list", "--zone", "cn-wlcb-01"])).out,
      /4090\s+cn-wlcb-01\s+Normal\s+24G\s+1\/16\/64/,
    );
    assert.match(
      (await ocs(["capacity", "--gpu-type", "4090", "--zone", "cn-wlcb-01"])).out,
      /1\s+16\s+64\s+yes/,
    );
    assert.match((await ocs(["price", "--gpu-type", "4090"])).out, /Dynamic\s+2\.05\/hour/);
  });
});

describe("ocs image against a running server", () => {
  /** The server's custom images (the CLI reads the same list). */
  const images = async () =>
    (await t.call("DescribeCompShareCustomImages", { Region: "cn-wlcb", Limit: 100 })).ImageSet as Array<
      Record<string, unknown>
    >;

  it("create (and --wait), progress, list --source custom, delete", async () => {
    const r = await t.call("CreateCompShareInstance", createParams());
    const id = (r.UHostIds as string[])[0] as string;
    await t.waitState(id, "Running", 10_000);
    const made = await ocs(["image", "create", id, "--name", "cli-env", "--description", "from ocs"]);
    assert.equal(made.code, 0, made.err);
    const img = /^(compshareImage-[a-z0-9]+): making/.exec(made.out)?.[1] as string;
    assert.ok(img, made.out);
    assert.match(
      (await ocs(["image", "progress", img])).out,
      new RegExp(`^${img}: Making \\d+(\\.\\d)?% \\(\\d+s of 50s left\\)`),
    );
    const busy = await ocs(["image", "create", id, "--name", "cli-env-2"]);
    assert.equal(busy.code, 1);
    assert.match(busy.err, /RetCode 8044/);

    t.server.internals.clock.advance(3600_000);
    const deadline = Date.now() + 10_000;
    while ((await images()).find((i) => i.CompShareImageId === img)?.Status !== "Available")
      assert.ok(Date.now() < deadline, "the image became Available");
    assert.match(
      (await ocs(["image", "list", "--source", "custom"])).out,
      new RegExp(`${img}\\s+cli-env\\s+Custom\\s+Available\\s+vm\\s+51200 MB\\s+root`),
    );

    // --wait follows the job: the clock is moved once the server has it.
    const waiting = ocs(["image", "create", id, "--name", "cli-env-3", "--wait", "--output", "json"]);
    while ((await images()).length < 2) await new Promise((res) => setTimeout(res, 20));
    t.server.internals.clock.advance(3600_000);
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.err);
    assert.equal(JSON.parse(waited.out).Status, "Available");
    assert.match(waited.err, /✓ compshareImage-[a-z0-9]+: Available/);

    const del = await ocs(["image", "delete", img]);
    assert.equal(del.code, 0, del.err);
    assert.equal(del.out, `${img}: deleted\n`);
    assert.equal(
      (await images()).some((i) => i.CompShareImageId === img),
      false,
    );
    assert.match((await ocs(["image", "list", "--source", "shared"])).out, /^IMAGE\s+NAME.*\n$/);
  });

  it("usage errors: a missing --name, an unknown source, a platform filter on another source", async () => {
    const noName = await ocs(["image", "create", "uhost-abc12345"]);
    assert.deepEqual([noName.code, /missing --name/.test(noName.err)], [2, true]);
    const source = await ocs(["image", "list", "--source", "community"]);
    assert.deepEqual(
      [source.code, /--source must be one of platform, custom, shared/.test(source.err)],
      [2, true],
    );
    const filter = await ocs(["image", "list", "--source", "custom", "--type", "App"]);
    assert.equal(filter.code, 2);
  });
});

describe("time parsing", () => {
  it("reads Unix seconds, ISO date-times and relative times", () => {
    const now = Date.UTC(2026, 10, 23, 0, 0, 0);
    assert.equal(parseTime("+2h", now), now / 1000 + 7200);
    assert.equal(parseTime("in 90m", now), now / 1000 + 5400);
    assert.equal(parseTime("1795400000", now), 1795400000);
    assert.equal(parseTime("2026-11-23T01:00:00Z", now), now / 1000 + 3600);
    assert.throws(() => parseTime("soon", now), /cannot read "soon"/);
  });
});
