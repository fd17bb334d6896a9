import assert from "node:assert/strict";
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
});
