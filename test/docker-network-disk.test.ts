import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { ScratchEngine } from "./docker-fixtures.js";
import { dockerCatalog, startScratchEngine } from "./docker-fixtures.js";
import type { TestServer } from "./helpers.js";
import { createParams, startTestServer } from "./helpers.js";

/**
 * The docker driver on an engine of this test's own: a user-defined bridge network, so 22/tcp is
 * really published, and a 64 MiB data root, so the engine's disk can really be filled. Needs root
 * (a tmpfs mount and a second dockerd), which CI has.
 */
const IMAGE = process.env.OCS_TEST_DOCKER_IMAGE;
const skip =
  IMAGE && process.getuid?.() === 0
    ? {}
    : process.env.CI === "true"
      ? (() => {
          throw new Error("Docker Engine or root missing in CI");
        })()
      : { skip: "needs the test Docker Engine and root (see npm test output)" };
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
const NETWORK = "ocs-test-bridge";
/**
 * A stand-in sshd: serves the container's hostname (its UHostId) on port 22, so a client that
 * follows SshLoginCommand can tell which container it reached.
 */
const SSHD = [
  "sh",
  "-c",
  "mkdir -p /srv && hostname > /srv/id && busybox httpd -p 22 -h /srv; trap 'exit 0' TERM; while :; do sleep 1; done",
];

/** Follows SshLoginCommand (`ssh root@IP -p PORT`) and reads what answers there. */
async function reach(u: Record<string, unknown>): Promise<string> {
  const m = /^ssh root@([\d.]+) -p (\d+)$/.exec(String(u.SshLoginCommand));
  assert.ok(m, `SshLoginCommand ${String(u.SshLoginCommand)}`);
  assert.equal((u.IPSet as Array<{ IP: string }>)[0]?.IP, m[1]);
  const res = await fetch(`http://${m[1]}:${m[2]}/id`, { signal: AbortSignal.timeout(5000) });
  return (await res.text()).trim();
}

describe("docker driver: SSH on a bridge network, and a full disk", { ...skip, timeout: 300_000 }, () => {
  let engine: ScratchEngine;
  let t: TestServer;
  before(async () => {
    engine = await startScratchEngine(64, IMAGE as string);
    engine.docker("network", "create", NETWORK);
    t = await startTestServer({
      OCS_DRIVER: "docker",
      OCS_DOCKER_GPU_MODE: "none",
      OCS_DOCKER_SOCKET: engine.socket,
      OCS_DOCKER_NETWORK: NETWORK,
      OCS_DOCKER_HOST_IP: "127.0.0.1",
      OCS_CATALOG: dockerCatalog(IMAGE as string, SSHD),
    });
  });
  after(async () => {
    await t?.close();
    await engine?.close();
  });

  let id = "";
  it("publishes 22/tcp: SshLoginCommand and IPSet lead to the instance's own container", async () => {
    const r = await t.call("CreateCompShareInstance", createParams());
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    id = (r.UHostIds as string[])[0] as string;
    const u = await t.waitState(id, "Running", 30_000);
    assert.equal(await reach(u), id);
    engine.docker("exec", `ocs-${id}`, "sh", "-c", "echo kept > /root/f");

    // Started without GPU the container is recreated (another port); Describe follows it.
    await t.call("StopCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Stopped", 30_000);
    await t.call("StartCompShareInstance", { ...Z, UHostId: id, WithoutGpu: true });
    const again = await t.waitState(id, "Running", 30_000);
    assert.equal(await reach(again), id);
  });

  it("out of disk: Create fails with the engine's reason, Start rolls back with nothing lost", async () => {
    await t.call("StopCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Stopped", 30_000);
    engine.fillDisk();
    try {
      const c = await t.call("CreateCompShareInstance", createParams());
      assert.equal(c.RetCode, 0, JSON.stringify(c));
      const failed = await t.waitState((c.UHostIds as string[])[0] as string, "Install Fail", 30_000);
      assert.match(String(failed.Remark), /no space left on device/i);

      // With its GPU back the container must be snapshotted, which needs disk: the Start fails.
      await t.call("StartCompShareInstance", { ...Z, UHostId: id });
      const stopped = await t.waitState(id, "Stopped", 30_000);
      assert.match(String(stopped.Remark), /no space left on device/i);
      assert.equal(
        engine.docker("ps", "-a", "--format", "{{.Names}}", "--filter", `name=ocs-${id}`),
        `ocs-${id}`,
        "the old container is kept, under its own name",
      );
      const held = await t.server.internals.db.all("SELECT gpu_index FROM host_gpus WHERE instance_id = ?", [
        id,
      ]);
      assert.deepEqual(held, [], "the failed start gave its GPU back");
    } finally {
      engine.freeDisk();
    }
    await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    const u = await t.waitState(id, "Running", 30_000);
    assert.equal(u.Remark ?? "", "");
    assert.equal(engine.docker("exec", `ocs-${id}`, "cat", "/root/f"), "kept");
    assert.equal(await reach(u), id);
  });

  it("published ports: a container instance's software ports answer from the host, new ones from the next start", async () => {
    const r = await t.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: "compshareImage-pytorch21" }),
    );
    const cpod = (r.UHostIds as string[])[0] as string;
    const u = await t.waitState(cpod, "Running", 30_000);
    const jupyter = (u.Softwares as Array<{ Name: string; URL: string }>)[0];
    assert.equal(jupyter?.Name, "JupyterLab");
    assert.match(String(jupyter?.URL), /^http:\/\/127\.0\.0\.1:\d+$/);
    const serve = (port: number) =>
      engine.docker(
        "exec",
        `ocs-${cpod}`,
        "sh",
        "-c",
        `mkdir -p /srv && echo ${port} > /srv/port && busybox httpd -p ${port} -h /srv`,
      );
    serve(8888);
    const answer = async (url: string) =>
      (await (await fetch(`${url}/port`, { signal: AbortSignal.timeout(5000) })).text()).trim();
    assert.equal(await answer(String(jupyter?.URL)), "8888");

    assert.equal(
      (
        await t.call("UpdateCompShareInstancePorts", {
          ...Z,
          UHostId: cpod,
          HttpPorts: [8188],
          TcpPorts: [2323],
        })
      ).RetCode,
      0,
    );
    // Running: the container keeps what it published until its next start.
    const before = await t.waitState(cpod, "Running", 30_000);
    assert.deepEqual(before.Softwares, u.Softwares);
    await t.call("StopCompShareInstance", { ...Z, UHostId: cpod });
    await t.waitState(cpod, "Stopped", 30_000);
    await t.call("StartCompShareInstance", { ...Z, UHostId: cpod });
    const after = await t.waitState(cpod, "Running", 30_000);
    const soft = after.Softwares as Array<{ Name: string; URL: string }>;
    assert.deepEqual(
      soft.map((x) => x.Name),
      ["TCP 2323", "ComfyUI"],
      "by container port",
    );
    serve(8188);
    assert.equal(await answer(soft[1]?.URL as string), "8188");
    // A TCP port answers a plain connect from the host.
    serve(2323);
    const m = /^tcp:\/\/([\d.]+):(\d+)$/.exec(soft[0]?.URL as string);
    assert.ok(m);
    await new Promise<void>((resolve, reject) => {
      const c = connect({ host: m[1], port: Number(m[2]) }, () => {
        c.end();
        resolve();
      });
      c.on("error", reject);
    });
  });
});
