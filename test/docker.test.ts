import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DockerOptions } from "../src/drivers/docker/docker-driver.js";
import { DockerDriver } from "../src/drivers/docker/docker-driver.js";
import {
  DOCKER_IMAGE,
  docker,
  dockerCatalog,
  eventually,
  fakeGpuHost,
  mainEngine,
  sh,
} from "./docker-fixtures.js";
import { driverConformance, testSpec } from "./driver-conformance.js";
import type { TestServer } from "./helpers.js";
import { WITH_DATA_DISK, createParams, createRunning, dataDiskOf, startTestServer } from "./helpers.js";

/**
 * The docker driver against a real Docker Engine (scripts/test.mjs installs and starts it and
 * imports a busybox image). GPUs are accounted but not wired here (OCS_DOCKER_GPU_MODE=none): CI
 * has no GPU; the device wiring is covered by gpus.test.ts and scripts/gpu-smoke.sh on a GPU host.
 */
const IMAGE = DOCKER_IMAGE;
const skip = mainEngine();
const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };
/** The store id the driver-level tests label with: this run's own. */
const DRIVER_STORE = `test-${process.pid}`;
/** Names of the stray objects are unique per run: two suites may share one engine. */
const RUN = randomBytes(3).toString("hex");
const driverOptions: DockerOptions = {
  storeId: DRIVER_STORE,
  socketPath: "/var/run/docker.sock",
  gpuMode: "none",
  inventory: [],
  files: {},
  hostIp: "127.0.0.1",
  network: "none",
};

describe("docker driver on a real engine", { ...skip, timeout: 300_000 }, () => {
  let t: TestServer;
  let catalog: string;
  let storeId = "";
  before(async () => {
    catalog = dockerCatalog(IMAGE as string);
    const env = {
      OCS_DRIVER: "docker",
      OCS_DOCKER_GPU_MODE: "none",
      OCS_DOCKER_NETWORK: "none",
      OCS_CATALOG: catalog,
      OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-docker-")),
    };
    // A first start makes the store and its id; the strays are made before a second start.
    const first = await startTestServer(env);
    storeId = String((await first.server.internals.db.all("SELECT value FROM store_meta"))[0]?.value);
    await first.close();
    for (const [id, store] of [
      [`uhost-stray1${RUN}`, storeId],
      [`uhost-foreign1${RUN}`, `another-install-${RUN}`],
    ] as const) {
      try {
        docker("rm", "-f", `ocs-${id}`);
      } catch {
        /* not there */
      }
      docker(
        "create",
        "--name",
        `ocs-${id}`,
        "--label",
        `opencompshare.instance=${id}`,
        "--label",
        `opencompshare.store=${store}`,
        IMAGE as string,
        "true",
      );
    }
    for (const [disk, store] of [
      [`bsm-stray3${RUN}`, storeId],
      [`bsm-foreign2${RUN}`, `another-install-${RUN}`],
    ] as const) {
      docker(
        "volume",
        "create",
        "--label",
        `opencompshare.disk=${disk}`,
        "--label",
        `opencompshare.store=${store}`,
        `ocs-${disk}`,
      );
    }
    // A commit keeps the container's labels: a snapshot of this store's, of an unknown instance.
    docker("commit", `ocs-uhost-stray1${RUN}`, `opencompshare-snapshot:uhost-stray2${RUN}`);
    t = await startTestServer(env);
  });
  after(async () => {
    for (const store of [storeId, DRIVER_STORE, `another-install-${RUN}`]) {
      const label = `label=opencompshare.store=${store}`;
      const ids = docker("ps", "-aq", "--filter", label).split("\n").filter(Boolean);
      if (ids.length) docker("rm", "-f", ...ids);
      const volumes = docker("volume", "ls", "-q", "--filter", label).split("\n").filter(Boolean);
      if (volumes.length) docker("volume", "rm", "-f", ...volumes);
      const images = docker("images", "-q", "--filter", label).split("\n").filter(Boolean);
      if (images.length) docker("rmi", "-f", ...new Set(images));
    }
    await t?.close();
  });

  it("removes its own store's containers, volumes and snapshots the store does not know, at start; never another install's", () => {
    assert.equal(docker("ps", "-aq", "--filter", `name=ocs-uhost-stray1${RUN}`), "");
    assert.equal(docker("volume", "ls", "-q", "--filter", `name=ocs-bsm-stray3${RUN}`), "");
    assert.equal(
      docker("volume", "ls", "-q", "--filter", `name=ocs-bsm-foreign2${RUN}`),
      `ocs-bsm-foreign2${RUN}`,
    );
    assert.equal(docker("images", "-q", `opencompshare-snapshot:uhost-stray2${RUN}`), "");
    assert.notEqual(
      docker("ps", "-aq", "--filter", `name=ocs-uhost-foreign1${RUN}`),
      "",
      "another install's stays",
    );
    assert.notEqual(docker("images", "-q", IMAGE as string), "", "the runtime image stays");
  });

  it("instance = labelled container; data volume survives stop/start, the system disk survives stop/start but not reinstall", async () => {
    const id = await createRunning(t, WITH_DATA_DISK, 30_000);
    const dataDisk = dataDiskOf(await t.waitState(id, "Running"));
    assert.equal(
      docker("inspect", "-f", '{{index .Config.Labels "opencompshare.instance"}}', `ocs-${id}`),
      id,
    );
    assert.equal(
      docker("inspect", "-f", "{{.HostConfig.Memory}}", `ocs-${id}`) !== "0",
      true,
      "memory limit set",
    );
    assert.equal(
      docker("images", "-q", `opencompshare-snapshot:${id}`),
      "",
      "a first start takes no snapshot",
    );
    sh(id, `echo system > /root/sys.txt; echo data > /mnt/${dataDisk}/data.txt`);

    await t.call("StopCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Stopped", 30_000);
    assert.equal(docker("inspect", "-f", "{{.State.Running}}", `ocs-${id}`), "false");
    // Without GPU the device set changes: the container is recreated from a snapshot of its disk.
    await t.call("StartCompShareInstance", { ...Z, UHostId: id, WithoutGpu: true });
    await t.waitState(id, "Running", 30_000);
    assert.equal(sh(id, `cat /root/sys.txt /mnt/${dataDisk}/data.txt`), "system\ndata");
    assert.match(docker("inspect", "-f", "{{json .Config.Env}}", `ocs-${id}`), /NVIDIA_VISIBLE_DEVICES=void/);
    assert.equal(
      docker("inspect", "-f", "{{.HostConfig.Memory}}", `ocs-${id}`),
      String(8192 * 1024 * 1024),
      "the no-GPU spec's memory (4090: 2 CPU, 8 GiB)",
    );

    // A running container instance gets its new password applied inside (busybox has chpasswd).
    const pw = await t.call("ResetCompShareInstancePassword", {
      ...Z,
      UHostId: id,
      Password: Buffer.from("N3w-Passw0rd").toString("base64"),
    });
    assert.equal(pw.RetCode, 8041, "a VM-type image: only when stopped");

    await t.call("StopCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Stopped", 30_000);
    await t.call("ReinstallCompShareInstance", {
      ...Z,
      UHostId: id,
      CompShareImageId: "compshareImage-ubuntu2204",
    });
    await t.waitState(id, "Stopped", 30_000);
    // A VM-type image takes a new password while Stopped; it is the login from the next start on.
    const reset = await t.call("ResetCompShareInstancePassword", {
      ...Z,
      UHostId: id,
      Password: Buffer.from("Stopped-Passw0rd").toString("base64"),
    });
    assert.equal(reset.RetCode, 0, JSON.stringify(reset));
    await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Running", 30_000);
    assert.equal(
      sh(id, `ls /root/sys.txt 2>/dev/null || echo gone; cat /mnt/${dataDisk}/data.txt`),
      "gone\ndata",
    );
    assert.match(sh(id, "cat /etc/shadow"), /^root:test-plain\$Stopped-Passw0rd:/);

    // Terminate without ReleaseUDisk keeps the volume; Recover brings the data back.
    await t.call("StopCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Stopped", 30_000);
    await t.call("TerminateCompShareInstance", { ...Z, UHostId: id });
    await eventually(
      () => docker("ps", "-aq", "--filter", `name=ocs-${id}`) === "",
      "the container to be removed",
    );
    assert.equal(docker("volume", "ls", "-q", "--filter", `name=ocs-${dataDisk}`), `ocs-${dataDisk}`);
    // The container goes a moment before Terminate's lock is released: wait for the operation to end.
    const db = t.server.internals.db;
    const deadline = Date.now() + 20_000;
    while ((await db.all("SELECT operation FROM instances WHERE id = ?", [id]))[0]?.operation !== null) {
      if (Date.now() > deadline) throw new Error("Terminate did not finish");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await t.call("RecoverCompShareInstance", { Region: "cn-wlcb", UHostId: id })).RetCode, 0);
    await t.waitState(id, "Stopped", 30_000);
    await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Running", 30_000);
    assert.equal(sh(id, `cat /mnt/${dataDisk}/data.txt`), "data");
    await t.call("StopCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Stopped", 30_000);
    await t.call("TerminateCompShareInstance", { ...Z, UHostId: id, ReleaseUDisk: true });
    await eventually(
      () => docker("volume", "ls", "-q", "--filter", `name=ocs-${dataDisk}`) === "",
      "the data volume to be released",
    );
  });

  it("container instances: the password is set inside while running", async () => {
    const r = await t.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: "compshareImage-pytorch21" }),
    );
    const id = (r.UHostIds as string[])[0] as string;
    await t.waitState(id, "Running", 30_000);
    const created = Buffer.from(String((await t.describeOne(id))?.Password), "base64").toString();
    assert.ok(
      sh(id, "cat /etc/shadow").startsWith(`root:test-plain$${created}:`),
      "Create's (generated) password applied",
    );
    const pw = await t.call("ResetCompShareInstancePassword", {
      ...Z,
      UHostId: id,
      Password: Buffer.from("N3w-Passw0rd").toString("base64"),
    });
    assert.equal(pw.RetCode, 0, JSON.stringify(pw));
    // An image without chpasswd says so clearly, and the stored password is unchanged.
    assert.match(sh(id, "cat /etc/shadow"), /^root:test-plain\$N3w-Passw0rd:/);
    sh(id, "rm /bin/chpasswd");
    const no = await t.call("ResetCompShareInstancePassword", {
      ...Z,
      UHostId: id,
      Password: Buffer.from("Other-Passw0rd").toString("base64"),
    });
    assert.equal(no.RetCode, 8049);
    assert.match(String(no.Message), /has no chpasswd/);
    assert.equal((await t.describeOne(id))?.Password, Buffer.from("N3w-Passw0rd").toString("base64"));
  });

  it("a container killed by hand is reconciled to Stopped with its GPUs released", async () => {
    const r = await t.call("CreateCompShareInstance", createParams());
    const id = (r.UHostIds as string[])[0] as string;
    await t.waitState(id, "Running", 30_000);
    docker("kill", `ocs-${id}`);
    const u = await t.waitState(id, "Stopped", 30_000);
    assert.match(String(u.Remark), /container exited|found stopped/);
    const held = await t.server.internals.db.all("SELECT gpu_index FROM host_gpus WHERE instance_id = ?", [
      id,
    ]);
    assert.deepEqual(held, []);
    await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    await t.waitState(id, "Running", 30_000);
    docker("rm", "-f", `ocs-${id}`);
    assert.match(String((await t.waitState(id, "Stopped", 30_000)).Remark), /removed|exited|found stopped/);
  });

  it("engine errors become a failed transition with the reason, never a hung state", async () => {
    const r = await t.call(
      "CreateCompShareInstance",
      createParams({ CompShareImageId: "compshareImage-cuda124" }),
    );
    const id = (r.UHostIds as string[])[0] as string;
    const u = await t.waitState(id, "Install Fail", 30_000);
    assert.match(String(u.Remark), /No such image|not found|does-not-exist/i);
    const down = await startTestServer({
      OCS_DRIVER: "docker",
      OCS_DOCKER_GPU_MODE: "none",
      OCS_DOCKER_NETWORK: "none",
      OCS_CATALOG: catalog,
      OCS_DOCKER_SOCKET: "/nonexistent.sock",
    });
    try {
      const c = await down.call("CreateCompShareInstance", createParams());
      assert.equal(c.RetCode, 0);
      const d = await down.waitState((c.UHostIds as string[])[0] as string, "Install Fail", 30_000);
      assert.match(String(d.Remark), /Docker Engine unreachable at \/nonexistent\.sock/);
    } finally {
      await down.close().catch(() => {});
    }
  });

  it("a GPU-set change keeps the system disk, flattens deep snapshots and survives a crash mid-way", async () => {
    // maxLayers 2: the one-layer test image commits once, then the next change must flatten.
    const d = new DockerDriver({ ...driverOptions, maxLayers: 2 });
    const s = testSpec(`uhost-recreate1${RUN}`, IMAGE as string);
    const name = `ocs-${s.id}`;
    const snapshot = `opencompshare-snapshot:${s.id}`;
    const layers = (ref: string) => Number(docker("image", "inspect", "-f", "{{len .RootFS.Layers}}", ref));
    const imageOf = () => docker("inspect", "-f", "{{.Image}}", name);
    const names = () => docker("ps", "-a", "--format", "{{.Names}}", "--filter", `name=${name}`);
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    await d.create(s);
    await d.start(s, [0]);
    sh(s.id, "echo kept > /root/f");
    await d.stop(s.id);

    await d.start(s, []);
    assert.equal(sh(s.id, "cat /root/f"), "kept");
    assert.equal(layers(snapshot), 2, "committed on top of the image");
    const committed = imageOf();
    await d.stop(s.id);
    await d.start(s, [0]);
    assert.equal(sh(s.id, "cat /root/f"), "kept");
    assert.equal(layers(snapshot), 1, "flattened: one more commit would pass maxLayers");
    assert.throws(
      () => docker("image", "inspect", committed),
      /No such image/,
      "the superseded snapshot is removed",
    );
    assert.equal(names(), name, "no retired container left");

    // Crash after the old container was renamed aside, before its successor existed: rolled back.
    await d.stop(s.id);
    docker("rename", name, `${name}-old`);
    await d.start(s, []);
    assert.equal(sh(s.id, "cat /root/f"), "kept");
    assert.equal(names(), name);
    // Crash after the successor was created, before the old one was removed: finished.
    await d.stop(s.id);
    docker("commit", name, snapshot);
    docker("rename", name, `${name}-old`);
    docker(
      "create",
      "--name",
      name,
      "--label",
      `opencompshare.instance=${s.id}`,
      "--label",
      "opencompshare.gpus=0",
      "--label",
      `opencompshare.store=${DRIVER_STORE}`,
      snapshot,
      "sh",
      "-c",
      "trap 'exit 0' TERM; while :; do sleep 1; done",
    );
    assert.deepEqual(
      await d.list().then((ids) => ids.filter((i) => i === s.id)),
      [s.id],
      "one id per instance",
    );
    await d.start(s, [0]);
    assert.equal(sh(s.id, "cat /root/f"), "kept");
    assert.equal(names(), name);
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    assert.equal(names(), "");
    assert.throws(() => docker("image", "inspect", snapshot), /No such image/);
  });

  it("new CPU/memory limits (a resize) are applied in place at the next start", async () => {
    const d = new DockerDriver(driverOptions);
    const s = testSpec(`uhost-limits01${RUN}`, IMAGE as string);
    const inspect = (f: string) => docker("inspect", "-f", f, `ocs-${s.id}`);
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    try {
      await d.create(s);
      await d.start(s, []);
      const container = inspect("{{.Id}}");
      assert.equal(inspect("{{.HostConfig.Memory}}"), String(256 * 1024 * 1024));
      await d.stop(s.id);
      await d.start({ ...s, memoryMB: 512 }, []);
      assert.equal(inspect("{{.HostConfig.Memory}}"), String(512 * 1024 * 1024));
      assert.equal(inspect("{{.Id}}"), container, "the same container: its disk untouched");
    } finally {
      await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    }
  });

  it(
    "devices mode: a container sees exactly its GPU nodes, none without GPU, across GPU-set changes",
    { skip: process.getuid?.() === 0 ? false : "mknod needs root" },
    async () => {
      const host = fakeGpuHost();
      const d = new DockerDriver({ ...driverOptions, gpuMode: "devices", ...host });
      const s = testSpec(`uhost-gpuwire1${RUN}`, IMAGE as string);
      const smi = () => {
        try {
          return sh(s.id, "nvidia-smi -L 2>&1");
        } catch (e) {
          return String((e as { stdout?: string }).stdout).trim();
        }
      };
      const nodes = () => sh(s.id, "ls /dev | grep nvidia | sort | tr '\\n' ' '").trim();
      try {
        await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
        await d.create(s);
        await d.start(s, [1]);
        assert.equal(smi(), "GPU 1: Fake H100 (UUID: GPU-fake-1)");
        assert.equal(nodes(), "nvidia-uvm nvidia1 nvidiactl");
        assert.match(
          docker("inspect", "-f", "{{json .Config.Env}}", `ocs-${s.id}`),
          /NVIDIA_VISIBLE_DEVICES=GPU-fake-1"/,
        );
        await d.stop(s.id);
        await d.start(s, []);
        assert.equal(smi(), "Failed to initialize NVML: Unknown Error", "the driver is there, no GPU is");
        assert.equal(nodes(), "");
        assert.match(
          docker("inspect", "-f", "{{json .Config.Env}}", `ocs-${s.id}`),
          /NVIDIA_VISIBLE_DEVICES=void"/,
        );
        await d.stop(s.id);
        await d.start(s, [0]);
        assert.equal(smi(), "GPU 0: Fake H100 (UUID: GPU-fake-0)");
        assert.equal(nodes(), "nvidia-uvm nvidia0 nvidiactl");
      } finally {
        await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
        host.cleanup();
      }
    },
  );

  driverConformance("docker", () => new DockerDriver(driverOptions), IMAGE as string);
});
