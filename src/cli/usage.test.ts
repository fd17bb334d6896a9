import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../test/helpers.js";
import { ROOT, createParams, startTestServer } from "../../test/helpers.js";
import { runOcs } from "./ocs.test-support.js";

let t: TestServer;
let env: Record<string, string>;

before(async () => {
  t = await startTestServer({ OCS_SIM_LATENCY_MS: "0" });
  env = {
    XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), "ocs-xdg-")),
    OCS_BASE_URL: t.url,
    OCS_PUBLIC_KEY: ROOT.publicKey,
    OCS_PRIVATE_KEY: ROOT.privateKey,
    OCS_REGION: "cn-wlcb",
  };
});
after(async () => {
  await t.close();
});

const ocs = async (...args: string[]) => {
  const r = await runOcs(args, env);
  assert.equal(r.code, 0, `ocs ${args.join(" ")}: ${r.err}`);
  return r.out;
};

async function instance(extra: Record<string, string> = {}): Promise<string> {
  const r = await t.call("CreateCompShareInstance", createParams(extra));
  const id = (r.UHostIds as string[])[0] as string;
  await t.waitState(id, "Running", 10_000);
  return id;
}

/** Waits until no operation holds the instance's lock (a disk change, a port update). */
async function idle(id: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (
    (await t.server.internals.db.all("SELECT operation FROM instances WHERE id = ?", [id]))[0]?.operation !==
    null
  ) {
    assert.ok(Date.now() < deadline, "the operation did not finish");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("ocs: disks, software, monitor, ports, prices", () => {
  it("disk create / list / detach / attach / resize / delete", async () => {
    const a = await instance();
    const made = JSON.parse(
      await ocs(
        "disk",
        "create",
        a,
        "--size",
        "60",
        "--name",
        "datasets",
        "--charge",
        "Postpay",
        "--output",
        "json",
      ),
    );
    const disk = made.UDiskId as string;
    await idle(a);
    assert.match(
      await ocs("disk", "list"),
      new RegExp(`${disk}\\s+datasets\\s+60GB\\s+SSDDataDisk\\s+InUse\\s+${a}\\s+/dev/vdb`),
    );
    assert.equal((await runOcs(["disk", "detach", disk, a], env)).code, 1, "only from Stopped");
    await t.call("StopCompShareInstance", { Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: a });
    await t.waitState(a, "Stopped", 10_000);
    assert.match(await ocs("disk", "detach", disk, a, "--device", "/dev/vdb"), /detach from .* accepted/);
    await idle(a);
    assert.match(await ocs("disk", "resize", disk, "100"), /grow to 100 GB accepted/);
    const b = await instance();
    assert.match(await ocs("disk", "attach", disk, b), /attach to .* accepted/);
    await idle(b);
    const listed = JSON.parse(await ocs("disk", "list", "--instance", b, "--output", "json"));
    assert.deepEqual(
      listed.DiskSet.map((d: Record<string, unknown>) => [d.ResourceId, d.Size, d.Status]),
      [[disk, 100, "InUse"]],
    );
    const busy = await runOcs(["disk", "delete", disk], env);
    assert.equal(busy.code, 1);
    assert.match(busy.err, /RetCode 8431/);
  });

  it("software list, instance monitor, ports, resize-price, refund", async () => {
    assert.match(await ocs("software", "list"), /^SOFTWARE\s+PORT\nSSH\s+22\nJupyterLab\s+8888\n/);
    const id = await instance();
    await t.call("EmulatorSetLoad", { UHostId: id, Cpu: 33 });
    await t.server.services.monitor.collect(t.server.internals.driver);
    assert.match(await ocs("instance", "monitor", id), new RegExp(`${id}\\s+uhost_cpu_used\\s+33\\s`));
    const cpod = await instance({ CompShareImageId: "compshareImage-pytorch21" });
    assert.match(
      await ocs("instance", "ports", cpod, "--http", "8188", "--http", "6006", "--tcp", "2323"),
      /from its next start/,
    );
    await idle(cpod);
    const row = (await t.server.internals.db.all("SELECT ports FROM instances WHERE id = ?", [cpod]))[0];
    assert.deepEqual(JSON.parse(String(row?.ports)), { http: [8188, 6006], tcp: [2323] });
    assert.match(
      await ocs("instance", "resize-price", id, "--gpu", "2", "--cpu", "32", "--memory", "131072"),
      /\+2\.05 \(list 2\.05\)/,
    );
    assert.match(
      await ocs("instance", "refund", id, "uhost-nothere"),
      new RegExp(`${id}\\s+0\\s*\\nuhost-nothere\\s+0\\s+8039`),
    );
  });
});
