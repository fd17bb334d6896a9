import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import { LABELS, claimFor } from "../src/drivers/kubernetes/objects.js";
import type { ParamValue } from "../src/protocol/encode.js";
import type { TestServer } from "./helpers.js";
import { assertSettled, createParams, createPgDatabase, pgSkip, startTestServer } from "./helpers.js";
import type { TestCluster } from "./kubernetes-fixtures.js";
import {
  k8sSkip,
  kubectl,
  kubectlApply,
  kubectlJson,
  kubernetesCatalog,
  otherWorkload,
  startTestCluster,
} from "./kubernetes-fixtures.js";

const H100 = { GpuType: "h100", GPU: 1, CPU: 4, Memory: 16384 };

/**
 * The fleet scenario on a whole server with OCS_DRIVER=kubernetes against a real control plane:
 * two kwok nodes of 8 H100 each, known to the catalog by their GPU product label. The store and
 * the cluster are compared after every step: the GPUs the store holds on a node are exactly the
 * GPUs the pods of its Running instances ask of that node, never more than it has.
 */
for (const dialect of ["sqlite", "postgres"] as const) {
  const skip = dialect === "postgres" && !k8sSkip.skip ? pgSkip() : {};
  describe(
    `kubernetes fleet on ${dialect}: one control plane over GPU nodes`,
    { ...k8sSkip, ...skip, timeout: 600_000 },
    () => {
      fleetScenario(dialect);
    },
  );
}

function fleetScenario(dialect: "sqlite" | "postgres"): void {
  const NS = `ocs-fleet-${dialect}`;
  let c: TestCluster;
  let t: TestServer;
  let dbUrl: string | undefined;
  const ids: string[] = [];

  const ourPods = () => podsIn(c, NS);
  const state = async (id: string) => (await t.describeOne(id))?.State;
  const inventory = () => freeH100(t);
  const consistent = () => storeMatchesCluster(t, c, NS);

  before(async () => {
    c = await startTestCluster({ nodes: 2, gpusPerNode: 8, snapshots: true });
    kubectl(c, "create", "namespace", NS);
    dbUrl = dialect === "postgres" ? ((await createPgDatabase()) as string) : undefined;
    t = await startTestServer(serverEnv(c, NS, dbUrl ? { OCS_DATABASE_URL: dbUrl } : {}));
  });
  after(async () => {
    await t?.close();
    await c?.stop();
  });

  it("the cluster's GPU nodes are the hosts: 2 × 8 H100 free, known by their product label", async () => {
    const hosts = await t.server.internals.store.hosts.all();
    assert.deepEqual(
      hosts.filter((h) => !h.retired).map((h) => [h.id, h.gpuType, h.gpuCount, h.gpusFree]),
      [
        ["gpu-node-0", "h100", 8, 8],
        ["gpu-node-1", "h100", 8, 8],
      ],
    );
    assert.equal(await inventory(), 16);
  });

  it("16 one-GPU instances all run, 8 on each node; the 17th is sold out", async () => {
    const r = await t.call("CreateCompShareInstance", createParams({ ...H100, MaxCount: 16 }));
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    ids.push(...(r.UHostIds as string[]));
    for (const id of ids) await t.waitState(id, "Running", 120_000);
    const perNode = new Map<string, number>();
    for (const p of ourPods())
      perNode.set(p.spec?.nodeName as string, (perNode.get(p.spec?.nodeName as string) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(perNode), { "gpu-node-0": 8, "gpu-node-1": 8 });
    const sold = await t.call("CreateCompShareInstance", createParams(H100));
    assert.equal(sold.RetCode, 226604, JSON.stringify(sold));
    assert.equal(await inventory(), 0);
    const u = await t.describeOne(ids[0] as string);
    assert.match(
      String(u?.SshLoginCommand),
      /^ssh root@127\.0\.0\.1 -p 3\d{4}$/,
      "the node's address and port",
    );
    await consistent();
  });

  it("stop one: its GPU goes to a new instance; started again it is refused its GPU, and runs WithoutGpu", async () => {
    const first = ids[0] as string;
    assert.equal((await t.call("StopCompShareInstance", { ...createParams(), UHostId: first })).RetCode, 0);
    await t.waitState(first, "Stopped", 60_000);
    await consistent();
    assert.equal(await inventory(), 1);
    const r = await t.call("CreateCompShareInstance", createParams(H100));
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    const seventeenth = (r.UHostIds as string[])[0] as string;
    ids.push(seventeenth);
    await t.waitState(seventeenth, "Running", 60_000);
    const start = await t.call("StartCompShareInstance", { ...createParams(), UHostId: first });
    assert.equal(start.RetCode, 8042, JSON.stringify(start));
    assert.match(String(start.Message), /WithoutGpu=true/);
    const noGpu = await t.call("StartCompShareInstance", {
      ...createParams(),
      UHostId: first,
      WithoutGpu: true,
    });
    assert.equal(noGpu.RetCode, 0, JSON.stringify(noGpu));
    await t.waitState(first, "Running", 60_000);
    const pod = kubectlJson<V1Pod>(c, "-n", NS, "get", "pod", `ocs-${first}`);
    assert.deepEqual(pod.spec?.containers[0]?.resources?.limits, { cpu: "2", memory: "8Gi" });
    assert.deepEqual(pod.spec?.containers[0]?.env, [{ name: "NVIDIA_VISIBLE_DEVICES", value: "void" }]);
    await consistent();
  });

  it("another workload's pod counts: a GPU it takes is not sold", async () => {
    const onNode1 = ourPods().find((p) => p.spec?.nodeName === "gpu-node-1");
    const id = onNode1?.metadata?.labels?.["opencompshare.io/instance"] as string;
    assert.equal((await t.call("StopCompShareInstance", { ...createParams(), UHostId: id })).RetCode, 0);
    await t.waitState(id, "Stopped", 60_000);
    otherWorkload(c, "someone-else", "gpu-node-1", 1);
    await waitFor(async () => (await inventory()) === 0, "the other workload's GPU to be counted");
    const r = await t.call("CreateCompShareInstance", createParams(H100));
    assert.equal(r.RetCode, 226604, JSON.stringify(r));
    kubectl(c, "delete", "pod", "someone-else", "--grace-period=0", "--force");
    await waitFor(async () => (await inventory()) === 1, "its GPU back");
    assert.equal((await t.call("StartCompShareInstance", { ...createParams(), UHostId: id })).RetCode, 0);
    await t.waitState(id, "Running", 60_000);
    await consistent();
  });

  it("a node going NotReady stops its instances with the reason in Remark and frees its GPUs; Ready again, they start", async () => {
    const onNode1 = ourPods()
      .filter((p) => p.spec?.nodeName === "gpu-node-1")
      .map((p) => p.metadata?.labels?.["opencompshare.io/instance"] as string);
    assert.equal(onNode1.length, 8);
    await c.setNodeReady("gpu-node-1", false);
    for (const id of onNode1) {
      await waitFor(async () => (await state(id)) === "Stopped", `${id} to stop`);
      assert.match(String((await t.describeOne(id))?.Remark), /node gpu-node-1 is NotReady/);
    }
    await consistent();
    const host = await t.server.internals.store.hosts.get("gpu-node-1");
    assert.deepEqual([host?.retired, host?.gpusFree], [true, 8], "no GPU held, and nothing new placed there");
    const refused = await t.call("StartCompShareInstance", {
      ...createParams(),
      UHostId: onNode1[0] as string,
    });
    assert.equal(refused.RetCode, 226604);
    assert.match(
      String(refused.Message),
      /host gpu-node-1 is not available now, and no host its disks reach has room/,
      "kwok's volumes reach any node, but node 0 is full",
    );
    await c.setNodeReady("gpu-node-1", true);
    await waitFor(async () => (await inventory()) === 8, "the node back in the fleet");
    for (const id of onNode1.slice(0, 2)) {
      // The node controller lifts the not-ready taint on its own schedule: the node may leave the
      // fleet again for a moment after it is back (226604 names the host "not available now").
      const started = await untilNot(226604, () =>
        t.call("StartCompShareInstance", { ...createParams(), UHostId: id }),
      );
      assert.equal(started.RetCode, 0, JSON.stringify(started));
      await t.waitState(id, "Running", 60_000);
    }
    await consistent();
  });

  it("a node deleted from the cluster stops its instances the same way", async () => {
    const onNode0 = ourPods()
      .filter((p) => p.spec?.nodeName === "gpu-node-0")
      .map((p) => p.metadata?.labels?.["opencompshare.io/instance"] as string);
    assert.ok(onNode0.length >= 8);
    await c.removeNode("gpu-node-0");
    for (const id of onNode0) {
      await waitFor(async () => (await state(id)) === "Stopped", `${id} to stop`);
      assert.match(String((await t.describeOne(id))?.Remark), /node gpu-node-0 was removed from the cluster/);
    }
    assert.equal(ourPods().filter((p) => p.spec?.nodeName === "gpu-node-0").length, 0);
    await consistent();
    await assertSettled(t.server.internals.db);
    assert.equal(await inventory(), 6, "node 1's free GPUs only");
  });

  it("started again, an instance of the deleted node moves where its disks reach: the same disks, on node 1", async () => {
    const id = ids[1] as string;
    const claimUid = () =>
      kubectl(c, "-n", NS, "get", "pvc", `ocs-${id}-system`, "-o", "jsonpath={.metadata.uid}");
    const before = claimUid();
    assert.equal((await t.call("StartCompShareInstance", { ...createParams(), UHostId: id })).RetCode, 0);
    await t.waitState(id, "Running", 60_000);
    const pod = kubectlJson<V1Pod>(c, "-n", NS, "get", "pod", `ocs-${id}`);
    assert.equal(pod.spec?.nodeName, "gpu-node-1");
    assert.equal(claimUid(), before, "the same system disk");
    assert.equal((await t.server.internals.store.instances.get(id))?.hostId, "gpu-node-1");
    const moved = await t.server.internals.db.all(
      "SELECT data FROM events WHERE resource_id = ? AND kind = 'instance.moved'",
      [id],
    );
    assert.deepEqual(JSON.parse(String(moved[0]?.data)), { from: "gpu-node-0", to: "gpu-node-1" });
    assert.equal(await inventory(), 5);
    await consistent();
    await assertSettled(t.server.internals.db);
  });

  it("a pod deleted by someone else, or evicted by a drain, stops its instance with the reason in Remark", async () => {
    const onNode1 = ourPods()
      .filter((p) => p.spec?.nodeName === "gpu-node-1")
      .map((p) => p.metadata?.labels?.["opencompshare.io/instance"] as string);
    assert.equal(onNode1.length, 3);
    const [deleted, ...drained] = onNode1 as [string, ...string[]];
    kubectl(c, "-n", NS, "delete", "pod", `ocs-${deleted}`, "--wait=false");
    await waitFor(async () => (await state(deleted)) === "Stopped", "the deleted pod's instance to stop");
    assert.match(String((await t.describeOne(deleted))?.Remark), /pod deleted outside opencompshare/);
    kubectl(c, "drain", "gpu-node-1", "--force", "--grace-period=1", "--timeout=60s");
    for (const id of drained) {
      await waitFor(async () => (await state(id)) === "Stopped", `${id} to stop`);
      assert.match(String((await t.describeOne(id))?.Remark), /pod disrupted \(EvictionByEvictionAPI/);
    }
    await waitFor(async () => (await inventory()) === 0, "the cordoned node to take nothing new");
    kubectl(c, "uncordon", "gpu-node-1");
    await waitFor(async () => (await inventory()) === 8, "the node back");
    await consistent();
    await assertSettled(t.server.internals.db);
  });

  it("a container instance's software ports are published on node ports; a disk attached while stopped is mounted at its start", async () => {
    const r = await t.call(
      "CreateCompShareInstance",
      createParams({ ...H100, CompShareImageId: "compshareImage-pytorch21" }),
    );
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    const id = (r.UHostIds as string[])[0] as string;
    ids.push(id);
    await t.waitState(id, "Running", 60_000);
    const nodePort = (name: string) =>
      kubectlJson<V1Service>(c, "-n", NS, "get", "service", `ocs-${id}`).spec?.ports?.find(
        (p) => p.name === name,
      )?.nodePort;
    assert.deepEqual((await t.describeOne(id))?.Softwares, [
      { Name: "JupyterLab", URL: `http://127.0.0.1:${nodePort("http-8888")}` },
    ]);
    assert.equal((await t.call("StopCompShareInstance", { ...createParams(), UHostId: id })).RetCode, 0);
    await t.waitState(id, "Stopped", 60_000);
    const ports = await whenFree(t, "UpdateCompShareInstancePorts", {
      ...createParams(),
      UHostId: id,
      HttpPorts: [8888, 6006],
    });
    assert.equal(ports.RetCode, 0, JSON.stringify(ports));
    const disk = await whenFree(t, "CreateAndAttachCompshareDisk", {
      ...createParams(),
      UHostId: id,
      Size: 40,
      DiskType: "SSDDataDisk",
      Name: "datasets",
      ChargeType: "Postpay",
    });
    assert.equal(disk.RetCode, 0, JSON.stringify(disk));
    const diskId = String(disk.UDiskId);
    await waitFor(
      async () =>
        kubectl(c, "-n", NS, "get", "pvc", "--ignore-not-found", "-o", "name", `ocs-${diskId}`) !== "",
      "the disk's claim",
    );
    assert.equal(
      (await whenFree(t, "StartCompShareInstance", { ...createParams(), UHostId: id })).RetCode,
      0,
    );
    await t.waitState(id, "Running", 60_000);
    const pod = kubectlJson<V1Pod>(c, "-n", NS, "get", "pod", `ocs-${id}`);
    assert.ok(pod.spec?.containers[0]?.volumeMounts?.some((m) => m.mountPath === `/mnt/${diskId}`));
    assert.deepEqual(
      ((await t.describeOne(id))?.Softwares as Array<{ URL: string }>).map((x) => x.URL),
      [`http://127.0.0.1:${nodePort("http-6006")}`, `http://127.0.0.1:${nodePort("http-8888")}`],
    );
    await consistent();
    // Terminate keeps the data disk (a detached disk, its claim kept) and erases the rest;
    // deleting the detached disk then deletes its claim.
    assert.equal((await whenFree(t, "StopCompShareInstance", { ...createParams(), UHostId: id })).RetCode, 0);
    await t.waitState(id, "Stopped", 60_000);
    const gone = await whenFree(t, "TerminateCompShareInstance", { ...createParams(), UHostId: id });
    assert.equal(gone.RetCode, 0, JSON.stringify(gone));
    const objects = () =>
      kubectl(c, "-n", NS, "get", "pod,pvc,svc,secret", "-o", "name")
        .split("\n")
        .filter((n) => n.includes(id));
    await waitFor(async () => objects().length === 0, "the terminated instance's objects to go");
    const claim = () =>
      kubectl(c, "-n", NS, "get", "pvc", "--ignore-not-found", "-o", "name", `ocs-${diskId}`);
    assert.notEqual(claim(), "", "the kept data disk's claim stays");
    // The disk is detached once the Terminate's worker step has finished (a moment after the
    // objects went): until then DeleteCompshareDisk says it is still attached.
    await waitFor(
      async () => (await t.call("DeleteCompshareDisk", { ...createParams(), UDiskId: diskId })).RetCode === 0,
      "the kept disk to be deletable",
    );
    await waitFor(async () => claim() === "", "the deleted disk's claim to go");
    ids.splice(ids.indexOf(id), 1);
  });

  it("a custom image is a VolumeSnapshot of the system disk; an instance made from it gets a disk made from the snapshot", async () => {
    const r = await t.call("CreateCompShareInstance", createParams(H100));
    assert.equal(r.RetCode, 0, JSON.stringify(r));
    const src = (r.UHostIds as string[])[0] as string;
    await t.waitState(src, "Running", 60_000);
    const made = await whenFree(t, "CreateCompShareCustomImage", {
      ...createParams(),
      UHostId: src,
      Name: "k8s-image",
    });
    assert.equal(made.RetCode, 0, JSON.stringify(made));
    const img = String(made.CompShareImageId);
    await waitFor(async () => {
      const p = await t.call("GetCompShareImageCreateProgress", { ...createParams(), CompShareImageId: img });
      assert.notEqual(p.Status, "Failed", JSON.stringify(p));
      return p.Status === "Available";
    }, "the image to be made");
    const snapshot = `ocs-img-${img.toLowerCase()}`;
    assert.equal(
      kubectl(c, "-n", NS, "get", "volumesnapshot", snapshot, "-o", "jsonpath={.status.readyToUse}"),
      "true",
    );
    const child = await t.call("CreateCompShareInstance", createParams({ ...H100, CompShareImageId: img }));
    assert.equal(child.RetCode, 0, JSON.stringify(child));
    const kid = (child.UHostIds as string[])[0] as string;
    await t.waitState(kid, "Running", 60_000);
    const claim = kubectlJson<{ spec: { dataSource?: { kind: string; name: string } } }>(
      c,
      "-n",
      NS,
      "get",
      "pvc",
      `ocs-${kid}-system`,
    );
    assert.deepEqual(claim.spec.dataSource && [claim.spec.dataSource.kind, claim.spec.dataSource.name], [
      "VolumeSnapshot",
      snapshot,
    ]);
    const srcImage = kubectlJson<V1Pod>(c, "-n", NS, "get", "pod", `ocs-${src}`).spec?.containers[0]?.image;
    assert.equal(
      kubectlJson<V1Pod>(c, "-n", NS, "get", "pod", `ocs-${kid}`).spec?.containers[0]?.image,
      srcImage,
    );
    assert.equal(
      (await t.call("TerminateCompShareCustomImage", { ...createParams(), CompShareImageId: img })).RetCode,
      0,
    );
    await waitFor(
      async () =>
        kubectl(c, "-n", NS, "get", "volumesnapshot", "--ignore-not-found", "-o", "name", snapshot) === "",
      "the snapshot to go with the image",
    );
    assert.equal((await t.describeOne(kid))?.State, "Running", "its instance keeps running");
    ids.push(src, kid);
    await consistent();
  });

  it("a node joining the cluster is a host at once: by its GPU type label, or its product; an unknown one is not", async () => {
    const before = await inventory();
    await c.addNode("gpu-node-7", {
      gpus: 4,
      product: "NVIDIA-L4",
      labels: { "opencompshare.io/gpu-type": "h100" },
    });
    await c.addNode("gpu-node-8", { gpus: 8, product: "NVIDIA-L4" });
    await waitFor(async () => (await inventory()) === before + 4, "the labelled node's 4 GPUs");
    const hosts = await t.server.internals.store.hosts.all();
    assert.equal(hosts.find((h) => h.id === "gpu-node-7")?.gpuType, "h100");
    assert.equal(
      hosts.find((h) => h.id === "gpu-node-8"),
      undefined,
      "a GPU model the catalog does not know",
    );
    await c.removeNode("gpu-node-7");
    await c.removeNode("gpu-node-8");
    await waitFor(async () => (await inventory()) === before, "the node gone again");
  });

  it("a start the scheduler cannot place rolls back with its reason in Remark", async () => {
    // A taint the store does not know yet (its fleet report comes a moment later) would race; a
    // storage class that does not exist fails every placement the same way, deterministically.
    const bad = await startTestServer(
      serverEnv(c, NS, { OCS_K8S_STORAGE_CLASS: "no-such-class", OCS_K8S_SCHEDULE_TIMEOUT_SECONDS: "2" }),
      {
        timings: { driverAttempts: 1 },
      },
    );
    try {
      const r = await bad.call("CreateCompShareInstance", createParams(H100));
      assert.equal(r.RetCode, 0, JSON.stringify(r));
      const id = (r.UHostIds as string[])[0] as string;
      const u = await bad.waitState(id, "Install Fail", 60_000);
      assert.match(String(u.Remark), /not scheduled within 2 s: .*unbound immediate PersistentVolumeClaims/);
      assert.equal(kubectl(c, "-n", NS, "get", "pods", "--ignore-not-found", "-o", "name", `ocs-${id}`), "");
    } finally {
      await bad.close();
    }
  });

  it("at start, this store's objects the store does not know are removed; another install's stay", async () => {
    const dataDir = t.dataDir;
    const storeId = String((await t.server.internals.db.all("SELECT value FROM store_meta"))[0]?.value);
    // The server only: the test server's close() would remove its data dir, the SQLite store with it.
    await t.server.close();
    const labels = (store: string, more: string) => `opencompshare.io/store=${store},${more}`;
    for (const [store, id] of [
      [storeId, "uhost-stray1"],
      [`another-${storeId}`, "uhost-foreign1"],
    ] as const) {
      kubectl(c, "-n", NS, "create", "secret", "generic", `ocs-${id}`, "--from-literal=password=x");
      kubectl(c, "-n", NS, "create", "service", "nodeport", `ocs-${id}`, "--tcp=22:22");
      kubectl(
        c,
        "-n",
        NS,
        "label",
        "secret,service",
        `ocs-${id}`,
        ...labels(store, `opencompshare.io/instance=${id}`).split(","),
      );
    }
    const claim = (name: string, labels: Record<string, string>) => claimFor(name, labels, 10, undefined);
    kubectlApply(
      c,
      NS,
      claim("ocs-uhost-stray1-system", {
        [LABELS.store]: storeId,
        [LABELS.instance]: "uhost-stray1",
        [LABELS.role]: "system",
      }),
      claim("ocs-bs-stray1", { [LABELS.store]: storeId, [LABELS.disk]: "bs-stray1", [LABELS.role]: "data" }),
      claim("ocs-bs-foreign1", {
        [LABELS.store]: `another-${storeId}`,
        [LABELS.disk]: "bs-foreign1",
        [LABELS.role]: "data",
      }),
    );
    t = await startTestServer(
      serverEnv(c, NS, { OCS_DATA_DIR: dataDir, ...(dbUrl ? { OCS_DATABASE_URL: dbUrl } : {}) }),
    );
    const left = kubectl(
      c,
      "-n",
      NS,
      "get",
      "secret,service",
      "-o",
      "name",
      "-l",
      "opencompshare.io/instance in (uhost-stray1, uhost-foreign1)",
    );
    assert.deepEqual(left.split("\n").sort(), ["secret/ocs-uhost-foreign1", "service/ocs-uhost-foreign1"]);
    const claims = kubectl(c, "-n", NS, "get", "pvc", "-o", "name").split("\n");
    assert.ok(claims.includes("persistentvolumeclaim/ocs-bs-foreign1"), "another install's disk stays");
    assert.ok(!claims.includes("persistentvolumeclaim/ocs-bs-stray1"), "an unknown disk of this store goes");
    assert.ok(!claims.includes("persistentvolumeclaim/ocs-uhost-stray1-system"));
    for (const id of ids)
      assert.ok(claims.includes(`persistentvolumeclaim/ocs-${id}-system`), "known ones stay");
    await storeMatchesCluster(t, c, NS);
  });
}

/**
 * The deploy's shape: two replicas on one PostgreSQL over one cluster. Both watch the fleet and
 * the pods; each operation runs once, and a lost node stops each of its instances once.
 */
describe(
  "kubernetes fleet: two replicas on one PostgreSQL",
  { ...k8sSkip, ...(k8sSkip.skip ? {} : pgSkip()), timeout: 600_000 },
  () => {
    const NS = "ocs-replicas";
    let c: TestCluster;
    let a: TestServer;
    let b: TestServer;
    before(async () => {
      c = await startTestCluster({ nodes: 2, gpusPerNode: 8 });
      kubectl(c, "create", "namespace", NS);
      const shared = {
        OCS_DATABASE_URL: (await createPgDatabase()) as string,
        OCS_MASTER_KEY: Buffer.alloc(32, 7).toString("base64"),
      };
      a = await startTestServer(serverEnv(c, NS, shared));
      b = await startTestServer(serverEnv(c, NS, shared));
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await c?.stop();
    });

    it("creates through either replica run once each; a NotReady node stops each of its instances once", async () => {
      const made: string[] = [];
      for (const t of [a, b, a, b]) {
        const r = await t.call("CreateCompShareInstance", createParams({ ...H100, MaxCount: 4 }));
        assert.equal(r.RetCode, 0, JSON.stringify(r));
        made.push(...(r.UHostIds as string[]));
      }
      for (const id of made) await b.waitState(id, "Running", 120_000);
      assert.equal(podsIn(c, NS).length, 16);
      await storeMatchesCluster(a, c, NS);
      const db = a.server.internals.db;
      const once = async (kind: string) =>
        (
          await db.all("SELECT resource_id, COUNT(*) AS n FROM events WHERE kind = ? GROUP BY resource_id", [
            kind,
          ])
        ).map((r) => Number(r.n));
      assert.deepEqual(await once("operation.finished"), Array(16).fill(1), "each Create finished once");
      const onNode1 = podsIn(c, NS)
        .filter((p) => p.spec?.nodeName === "gpu-node-1")
        .map((p) => p.metadata?.labels?.["opencompshare.io/instance"] as string);
      await c.setNodeReady("gpu-node-1", false);
      for (const id of onNode1)
        await waitFor(async () => (await a.describeOne(id))?.State === "Stopped", `${id} to stop`);
      assert.deepEqual(await once("instance.stopped-out-of-band"), Array(8).fill(1), "each stopped once");
      await c.setNodeReady("gpu-node-1", true);
      await waitFor(async () => (await freeH100(b)) === 8, "node 1 back on both replicas");
      await waitFor(async () => (await freeH100(a)) === 8, "node 1 back on both replicas");
      await storeMatchesCluster(b, c, NS);
      await assertSettled(db);
    });
  },
);

/** This namespace's pods that are not being deleted. */
function podsIn(c: TestCluster, ns: string): V1Pod[] {
  return kubectlJson<{ items: V1Pod[] }>(c, "-n", ns, "get", "pods").items.filter(
    (p) => !p.metadata?.deletionTimestamp,
  );
}

/** Free h100 GPUs in the default zone, as DescribeCompShareGpuInventory says. */
async function freeH100(t: TestServer): Promise<number> {
  const r = await t.call("DescribeCompShareGpuInventory", { Region: "cn-wlcb" });
  return JSON.parse(r.GpuInventoryByZone as string).Exclusive["cn-wlcb-01"]?.h100 ?? 0;
}

/**
 * GPUs held in the store per host = GPUs the pods ask of each node, never more than it has; a
 * Running pod for each Running instance and no other.
 */
async function storeMatchesCluster(t: TestServer, c: TestCluster, ns: string): Promise<void> {
  const store = t.server.internals.store;
  const held = new Map<string, number>();
  for (const row of await store.db.all(
    "SELECT host_id, COUNT(*) AS n FROM host_gpus WHERE instance_id IS NOT NULL GROUP BY host_id",
  ))
    held.set(String(row.host_id), Number(row.n));
  const asked = new Map<string, number>();
  for (const p of podsIn(c, ns)) {
    const g = Number(p.spec?.containers[0]?.resources?.limits?.["nvidia.com/gpu"] ?? 0);
    asked.set(p.spec?.nodeName as string, (asked.get(p.spec?.nodeName as string) ?? 0) + g);
  }
  for (const node of new Set([...held.keys(), ...asked.keys()])) {
    assert.equal(held.get(node) ?? 0, asked.get(node) ?? 0, `GPUs on ${node}: store vs pods`);
    assert.ok((held.get(node) ?? 0) <= 8, `${node} is not over-committed`);
  }
  const running = (await store.instances.runningIdle()).sort();
  const withPods = podsIn(c, ns)
    .filter((p) => p.status?.phase === "Running")
    .map((p) => p.metadata?.labels?.["opencompshare.io/instance"] as string)
    .sort();
  assert.deepEqual(withPods, running, "a Running pod for each Running instance, and no other");
}

/** The environment of a kubernetes-driver server on a test cluster. */
const serverEnv = (c: TestCluster, ns: string, more: Record<string, string> = {}) => ({
  OCS_DRIVER: "kubernetes",
  KUBECONFIG: c.kubeconfig,
  OCS_K8S_NAMESPACE: ns,
  OCS_CATALOG: kubernetesCatalog(),
  OCS_K8S_SCHEDULE_TIMEOUT_SECONDS: "3",
  OCS_K8S_START_TIMEOUT_SECONDS: "20",
  ...more,
});

/**
 * A call on an instance whose lock an operation that just returned may still hold (the worker
 * finishes it a moment later): 8040 is retried, as the SDKs retry it.
 */
function whenFree(t: TestServer, action: string, params: Record<string, ParamValue>) {
  return untilNot(8040, () => t.call(action, params));
}

/** Calls again while the answer is `retCode` (for up to 30 s); the last answer. */
async function untilNot(
  retCode: number,
  call: () => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await call();
    if (r.RetCode !== retCode || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Polls an async condition (the informers and the worker run in the background) for up to 60 s. */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
