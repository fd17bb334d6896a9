import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DockerDriver } from "../src/drivers/docker/docker-driver.js";
import { DOCKER_IMAGE, docker, dockerCatalog, eventually, mainEngine, sh } from "./docker-fixtures.js";
import { testSpec } from "./driver-conformance.js";
import type { TestServer } from "./helpers.js";
import { WITH_DATA_DISK, createParams, createRunning, startTestServer } from "./helpers.js";

/**
 * Data disks and monitoring on the real Docker Engine (the suite's main engine, no network; see
 * docker.test.ts): a disk's data survives detach and attach to another instance, and the collector
 * reads a busy container's CPU from the Engine's stats and the GPUs it holds from nvidia-smi.
 */
const IMAGE = DOCKER_IMAGE;
const skip = mainEngine();
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
const mounts = (id: string) => docker("inspect", "-f", "{{range .Mounts}}{{.Name}} {{end}}", `ocs-${id}`);

describe("docker driver: data disks and monitoring on a real engine", { ...skip, timeout: 300_000 }, () => {
  let t: TestServer;
  let storeId = "";
  before(async () => {
    t = await startTestServer({
      OCS_DRIVER: "docker",
      OCS_DOCKER_GPU_MODE: "none",
      OCS_DOCKER_NETWORK: "none",
      OCS_CATALOG: dockerCatalog(IMAGE as string),
      OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-docker-disks-")),
    });
    storeId = String((await t.server.internals.db.all("SELECT value FROM store_meta"))[0]?.value);
  });
  after(async () => {
    await t?.close();
    const label = `label=opencompshare.store=${storeId}`;
    const ids = docker("ps", "-aq", "--filter", label).split("\n").filter(Boolean);
    if (ids.length) docker("rm", "-f", ...ids);
    const volumes = docker("volume", "ls", "-q", "--filter", label).split("\n").filter(Boolean);
    if (volumes.length) docker("volume", "rm", "-f", ...volumes);
    const images = docker("images", "-q", "--filter", label).split("\n").filter(Boolean);
    if (images.length) docker("rmi", "-f", ...new Set(images));
  });

  /** Waits for a disk to reach a status in DescribeCompshareDisk (its operation finished). */
  async function diskStatus(diskId: string, status: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const list = await t.call("DescribeCompshareDisk", {});
      const d = (list.DiskSet as Array<{ ResourceId: string; Status: string }>).find(
        (x) => x.ResourceId === diskId,
      );
      if (d?.Status === status) return;
      if (Date.now() > deadline) throw new Error(`disk ${diskId} did not become ${status} (${d?.Status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const instance = () => createRunning(t, WITH_DATA_DISK, 30_000);

  async function stop(id: string): Promise<void> {
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await t.waitState(id, "Stopped", 30_000);
  }

  async function start(id: string): Promise<void> {
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await t.waitState(id, "Running", 30_000);
  }

  it("a disk's data survives detach and attach to another instance; a running one mounts it at its next start", async () => {
    const a = await instance();
    const disk = ((await t.describeOne(a))?.DiskSet as Array<{ DiskId: string; IsBoot: string }>).find(
      (d) => d.IsBoot === "False",
    )?.DiskId as string;
    sh(a, `echo kept-across-instances > /mnt/${disk}/f`);
    assert.equal(
      docker("volume", "inspect", "-f", '{{index .Labels "opencompshare.disk"}}', `ocs-${disk}`),
      disk,
      "a labelled named volume",
    );
    await stop(a);
    assert.equal(
      (await t.call("DetachCompshareDisk", { ...Z, UHostId: a, UDiskId: disk, Device: "/dev/vdb" })).RetCode,
      0,
    );
    await diskStatus(disk, "Available");
    assert.doesNotMatch(mounts(a), new RegExp(`ocs-${disk}`), "the stopped container let go of it at once");

    const b = await instance();
    assert.equal((await t.call("AttachCompshareDisk", { ...Z, UHostId: b, UDiskId: disk })).RetCode, 0);
    await diskStatus(disk, "InUse");
    assert.equal((await t.describeOne(b))?.State, "Running");
    assert.equal(
      sh(b, `ls /mnt/${disk} 2>/dev/null || echo absent`),
      "absent",
      "a running container cannot take a mount",
    );
    await stop(b);
    await start(b);
    assert.equal(sh(b, `cat /mnt/${disk}/f`), "kept-across-instances");

    // On a stopped instance a new disk is mounted at once (the container is recreated, its disk kept).
    sh(b, "echo system > /root/s");
    await stop(b);
    const created = await t.call("CreateAndAttachCompshareDisk", {
      ...Z,
      UHostId: b,
      Size: 20,
      Name: "scratch",
    });
    assert.equal(created.RetCode, 0, JSON.stringify(created));
    const fresh = created.UDiskId as string;
    await diskStatus(fresh, "InUse");
    assert.match(mounts(b), new RegExp(`ocs-${fresh}`));
    await start(b);
    assert.equal(sh(b, `cat /root/s; ls -d /mnt/${fresh}`), `system\n/mnt/${fresh}`);

    // Detached and deleted: the volume goes.
    await stop(b);
    assert.equal((await t.call("DetachCompshareDisk", { ...Z, UHostId: b, UDiskId: disk })).RetCode, 0);
    await diskStatus(disk, "Available");
    assert.equal((await t.call("DeleteCompshareDisk", { ...Z, UDiskId: disk })).RetCode, 0);
    await eventually(
      () => docker("volume", "ls", "-q", "--filter", `name=ocs-${disk}`) === "",
      "the deleted disk's volume to go",
    );
  });

  it("monitoring: a busy loop in the container shows as CPU; memory and disks are read too", async () => {
    const r = await t.call("CreateCompShareInstance", createParams());
    const id = (r.UHostIds as string[])[0] as string;
    await t.waitState(id, "Running", 30_000);
    docker("exec", "-d", `ocs-${id}`, "sh", "-c", "while :; do :; done");
    const { monitor } = t.server.services;
    await monitor.collect(t.server.internals.driver);
    await new Promise((res) => setTimeout(res, 1000));
    await monitor.collect(t.server.internals.driver);
    const m = await t.call("GetCompShareInstanceMonitor", { ...Z, UHostIds: [id] });
    assert.equal(m.RetCode, 0, JSON.stringify(m));
    const metrics = (
      m.Data as {
        List: Array<{
          Metrics: Array<{ MetricKey: string; Results: Array<{ Values: Array<{ Value: number }> }> }>;
        }>;
      }
    ).List[0]?.Metrics;
    const latest = (key: string) =>
      metrics?.find((x) => x.MetricKey === key)?.Results[0]?.Values.at(-1)?.Value;
    assert.ok((latest("uhost_cpu_used") ?? 0) > 5, `CPU ${latest("uhost_cpu_used")}`);
    assert.ok((latest("cloudwatch_memory_usage") ?? -1) >= 0);
    assert.ok((latest("cloudwatch_sys_disk_used_per") ?? -1) >= 0);
    const u = await t.describeOne(id);
    assert.ok(Number((u?.MonitorMessages as { CpuUsageRate: string }).CpuUsageRate) > 5);
  });

  it("nvidia-smi is read once per tick and each instance gets exactly the GPUs it holds", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ocs-smi-"));
    const smi = join(dir, "nvidia-smi");
    writeFileSync(
      smi,
      `#!/bin/sh
echo "0, GPU-fake-0, 00000000:18:00.0, 37, 1000, 81559"
echo "1, GPU-fake-1, 00000000:19:00.0, 88, 40000, 80000"
`,
    );
    chmodSync(smi, 0o755);
    const d = new DockerDriver({
      storeId: `test-smi-${process.pid}`,
      socketPath: "/var/run/docker.sock",
      gpuMode: "none",
      inventory: [],
      files: {},
      hostIp: "127.0.0.1",
      network: "none",
      nvidiaSmi: smi,
    });
    const s = testSpec(`uhost-smi0${process.pid.toString(36)}`, IMAGE as string);
    try {
      await d.create(s);
      await d.start(s, []);
      const [sample] = await d.sample([
        { id: s.id, hostId: "h", gpus: [1], cpu: 1, memoryMB: 256, bootGB: 20, dataDisks: [] },
      ]);
      assert.deepEqual(sample?.gpus, [
        { index: 1, uuid: "GPU-fake-1", busId: "00000000:19:00.0", util: 88, memory: 50 },
      ]);
      const gone = await d.sample([
        { id: "uhost-notthere", hostId: "h", gpus: [], cpu: 1, memoryMB: 1, bootGB: 1, dataDisks: [] },
      ]);
      assert.deepEqual(gone, [], "a container that is not there has no readings");
    } finally {
      await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    }
  });
});
