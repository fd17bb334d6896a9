import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import type { V1PersistentVolumeClaim, V1Pod, V1Service } from "@kubernetes/client-node";
import { UnsupportedByRuntime } from "../src/domain/errors.js";
import type { RuntimeSpec } from "../src/drivers/driver.js";
import { KubernetesDriver } from "../src/drivers/kubernetes/kubernetes-driver.js";
import { eventually } from "./docker-fixtures.js";
import { driverConformance, testSpec } from "./driver-conformance.js";
import type { TestCluster } from "./kubernetes-fixtures.js";
import {
  driverOptions,
  k8sSkip,
  kubectl,
  kubectlApply,
  kubectlJson,
  newDriver,
  otherWorkload,
  startTestCluster,
} from "./kubernetes-fixtures.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The image of the test pods: kwok runs nothing, so any name does. */
const IMAGE = "ubuntu:22.04";

/**
 * The kubernetes driver against a real control plane (API server, etcd, scheduler, controller
 * manager) whose nodes are kwok's: pods are scheduled, bound and reported Running, volume claims
 * bound, services given node ports, but no container runs. So this proves what the driver asks
 * of Kubernetes and how it follows what Kubernetes does; what runs inside a pod (the system
 * disk's seeding, the password hook) is checked on the pod spec, and the seeding script by
 * itself in objects.test.ts.
 */
describe("kubernetes driver on a real control plane", { ...k8sSkip, timeout: 600_000 }, () => {
  let c: TestCluster;
  let d: KubernetesDriver;
  const spec = (id: string, more: Partial<RuntimeSpec> = {}): RuntimeSpec => ({
    ...testSpec(id, IMAGE, "gpu-node-0"),
    cpu: 4,
    memoryMB: 16384,
    systemDiskGB: 30,
    ...more,
  });
  const pod = (id: string) => kubectlJson<V1Pod>(c, "get", "pod", `ocs-${id}`);
  const podExists = (id: string) =>
    kubectl(c, "get", "pods", "--ignore-not-found", "-o", "name", `ocs-${id}`) !== "";

  before(async () => {
    c = await startTestCluster({ nodes: 2, gpusPerNode: 8, snapshots: true });
    d = newDriver(c);
  });
  after(async () => {
    await c?.stop();
  });

  driverConformance("kubernetes", () => d, IMAGE, "gpu-node-0");

  it("an instance is a labelled pod on its node with exactly its GPUs; disks are claims, SSH a node port", async () => {
    const s = spec("uhost-k8sgpu1", { dataDisks: [{ id: "bs-k8sdata1", sizeGB: 100 }] });
    await d.create(s);
    const access = await d.start(s, [0, 1]);
    const p = pod(s.id);
    assert.equal(p.status?.phase, "Running");
    assert.equal(p.spec?.nodeName, "gpu-node-0", "bound by the scheduler to the placed node");
    assert.deepEqual(p.spec?.containers[0]?.resources?.limits, {
      cpu: "4",
      memory: "16Gi",
      "nvidia.com/gpu": "2",
    });
    assert.equal(p.metadata?.labels?.["opencompshare.io/store"], `test-${process.pid}`);
    const claims = kubectlJson<{ items: V1PersistentVolumeClaim[] }>(
      c,
      "get",
      "pvc",
      "-l",
      `opencompshare.io/store=test-${process.pid}`,
    ).items;
    const system = claims.find((x) => x.metadata?.name === `ocs-${s.id}-system`);
    const data = claims.find((x) => x.metadata?.name === "ocs-bs-k8sdata1");
    assert.equal(system?.spec?.resources?.requests?.storage, "30Gi");
    assert.equal(data?.spec?.resources?.requests?.storage, "100Gi");
    assert.equal(data?.metadata?.labels?.["opencompshare.io/disk"], "bs-k8sdata1");
    await eventually(
      () => kubectl(c, "get", "pvc", `ocs-${s.id}-system`, "-o", "jsonpath={.status.phase}") === "Bound",
      "the system disk's claim to be bound",
    );
    const mounts = p.spec?.containers[0]?.volumeMounts?.map((m) => m.mountPath);
    assert.ok(mounts?.includes("/mnt/bs-k8sdata1"));
    const svc = kubectlJson<V1Service>(c, "get", "service", `ocs-${s.id}`);
    const nodePort = svc.spec?.ports?.[0]?.nodePort;
    assert.deepEqual(
      access,
      { ip: "127.0.0.1", sshPort: nodePort, ports: {} },
      "the node's address and the SSH node port",
    );
    const secret = kubectlJson<{ data: { password: string } }>(c, "get", "secret", `ocs-${s.id}`);
    assert.equal(Buffer.from(secret.data.password, "base64").toString(), "x");

    // Stop deletes the pod; the claims (the disks) and the service stay.
    const systemUid = system?.metadata?.uid;
    await d.stop(s.id);
    assert.equal(podExists(s.id), false);
    assert.deepEqual(await d.inspect(s.id), { exists: true, running: false });
    // Started again without GPU: the same claims (not new disks), no GPU, GPUs hidden.
    const again = await d.start({ ...s, password: "new-password" }, []);
    assert.deepEqual(again, access, "the same address: the service and its node port stay");
    assert.equal(kubectl(c, "get", "pvc", `ocs-${s.id}-system`, "-o", "jsonpath={.metadata.uid}"), systemUid);
    const p2 = pod(s.id);
    assert.equal(p2.spec?.containers[0]?.resources?.limits?.["nvidia.com/gpu"], undefined);
    assert.deepEqual(p2.spec?.containers[0]?.env, [{ name: "NVIDIA_VISIBLE_DEVICES", value: "void" }]);
    const secret2 = kubectlJson<{ data: { password: string } }>(c, "get", "secret", `ocs-${s.id}`);
    assert.equal(Buffer.from(secret2.data.password, "base64").toString(), "new-password");
    // Reinstall: a new system disk, the data disk kept.
    await d.stop(s.id);
    await d.reinstall(s);
    assert.notEqual(
      kubectl(c, "get", "pvc", `ocs-${s.id}-system`, "-o", "jsonpath={.metadata.uid}"),
      systemUid,
    );
    assert.equal(
      data?.metadata?.uid,
      kubectl(c, "get", "pvc", "ocs-bs-k8sdata1", "-o", "jsonpath={.metadata.uid}"),
    );
    // Terminate keeping the data disk, then with it released.
    await d.destroy(s.id, { releaseDataDisks: false, dataDiskIds: ["bs-k8sdata1"] });
    assert.equal(
      kubectl(c, "get", "pvc,svc,secret", "-l", `opencompshare.io/instance=${s.id}`, "-o", "name"),
      "",
    );
    assert.deepEqual(await d.volumes(), ["bs-k8sdata1"]);
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: ["bs-k8sdata1"] });
    assert.deepEqual(await d.volumes(), []);
  });

  it("a pod the scheduler cannot place fails its start with the scheduler's reason, and is removed", async () => {
    const s = spec("uhost-k8snoroom");
    await d.create(s);
    await assert.rejects(
      d.start(s, [0, 1, 2, 3, 4, 5, 6, 7, 8]),
      /not scheduled within 3 s: 0\/2 nodes are available: .*Insufficient nvidia\.com\/gpu/,
    );
    assert.equal(podExists(s.id), false, "a start that failed holds nothing on the node");
    const gone = testSpec("uhost-k8snonode", IMAGE, "no-such-node");
    await d.create(gone);
    await assert.rejects(d.start(gone, []), /not scheduled within 3 s: .*NodeAffinity/);
    await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    await d.destroy(gone.id, { releaseDataDisks: true, dataDiskIds: [] });
  });

  it("says which nodes an instance's disks reach: any for unbound or network volumes, a local volume's node", async () => {
    const local = newDriver(c, { storageClass: "manual" });
    const s = spec("uhost-k8slocal1", { dataDisks: [{ id: "bs-k8slocal1", sizeGB: 10 }] });
    await local.create(s);
    assert.equal(await local.hostsFor(s.id, ["bs-k8slocal1"]), undefined, "not bound yet: any node");
    // A local volume on node 1 for the system disk, a zonal one for the data disk: as a local or
    // topology-aware provisioner would make them.
    kubectlApply(
      c,
      "default",
      ...[
        [`ocs-${s.id}-system`, "kubernetes.io/hostname", "gpu-node-1"],
        ["ocs-bs-k8slocal1", "topology.kubernetes.io/zone", "zone-a"],
      ].map(([claim, key, value]) => ({
        apiVersion: "v1",
        kind: "PersistentVolume",
        metadata: { name: `pv-${claim}` },
        spec: {
          capacity: { storage: "50Gi" },
          accessModes: ["ReadWriteOnce"],
          storageClassName: "manual",
          hostPath: { path: `/tmp/${claim}` },
          claimRef: { namespace: "default", name: claim },
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [{ matchExpressions: [{ key, operator: "In", values: [value] }] }],
            },
          },
        },
      })),
    );
    kubectl(
      c,
      "label",
      "node",
      "gpu-node-0",
      "gpu-node-1",
      "topology.kubernetes.io/zone=zone-a",
      "--overwrite",
    );
    await eventually(
      () =>
        kubectl(
          c,
          "get",
          "pvc",
          `ocs-${s.id}-system`,
          "ocs-bs-k8slocal1",
          "-o",
          "jsonpath={.items[*].status.phase}",
        ) === "Bound Bound",
      "the claims to bind to the volumes",
    );
    assert.deepEqual(await local.hostsFor(s.id, []), ["gpu-node-1"]);
    assert.deepEqual((await local.hostsFor(s.id, ["bs-k8slocal1"]))?.sort(), ["gpu-node-1"]);
    kubectl(c, "label", "node", "gpu-node-1", "topology.kubernetes.io/zone=zone-b", "--overwrite");
    assert.deepEqual(await local.hostsFor(s.id, ["bs-k8slocal1"]), [], "no node has both");
    await local.destroy(s.id, { releaseDataDisks: true, dataDiskIds: ["bs-k8slocal1"] });
    kubectl(c, "delete", "pv", `pv-ocs-${s.id}-system`, "pv-ocs-bs-k8slocal1", "--ignore-not-found");
    kubectl(c, "label", "node", "gpu-node-0", "gpu-node-1", "topology.kubernetes.io/zone-");
  });

  it("software ports, attached disks and grown disks follow the spec at each start; a class that cannot grow says so", async () => {
    const s = spec("uhost-k8sports1", { ports: { http: [8888], tcp: [23] } });
    await d.create(s);
    const first = await d.start(s, []);
    const svc = () => kubectlJson<V1Service>(c, "get", "service", `ocs-${s.id}`);
    const nodePorts = () => Object.fromEntries((svc().spec?.ports ?? []).map((p) => [p.name, p.nodePort]));
    const before = nodePorts();
    assert.deepEqual(first?.ports, { "http/8888": before["http-8888"], "tcp/23": before["tcp-23"] });
    await d.stop(s.id);
    // While stopped: 23 no longer published, 6006 added, a data disk attached, the system disk grown.
    const next = {
      ...s,
      ports: { http: [8888, 6006], tcp: [] },
      dataDisks: [{ id: "bs-k8sports1", sizeGB: 20 }],
      systemDiskGB: 60,
    };
    await d.syncDisks(next);
    assert.equal(
      kubectl(c, "get", "pvc", "ocs-bs-k8sports1", "-o", "jsonpath={.spec.resources.requests.storage}"),
      "20Gi",
    );
    await assert.rejects(
      d.start(next, []),
      /disk ocs-uhost-k8sports1-system cannot grow to 60Gi: .*allowVolumeExpansion/,
    );
    kubectl(c, "patch", "storageclass", "kwok-volume", "-p", '{"allowVolumeExpansion": true}');
    try {
      const again = await d.start(next, []);
      const after = nodePorts();
      assert.equal(after["http-8888"], before["http-8888"], "a port kept keeps its node port");
      assert.equal(after["tcp-23"], undefined);
      assert.deepEqual(again?.ports, { "http/8888": after["http-8888"], "http/6006": after["http-6006"] });
      assert.equal(
        kubectl(c, "get", "pvc", `ocs-${s.id}-system`, "-o", "jsonpath={.spec.resources.requests.storage}"),
        "60Gi",
      );
      assert.ok(
        pod(s.id).spec?.containers[0]?.volumeMounts?.some((m) => m.mountPath === "/mnt/bs-k8sports1"),
      );
      await d.stop(s.id);
      await d.syncDisks({ ...next, dataDisks: [] });
      await d.deleteDisk("bs-k8sports1");
      await d.deleteDisk("bs-k8sports1");
      assert.deepEqual(await d.volumes(), []);
    } finally {
      kubectl(c, "patch", "storageclass", "kwok-volume", "-p", '{"allowVolumeExpansion": false}');
      await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: ["bs-k8sports1"] });
    }
  });

  it("custom images: a VolumeSnapshot of the system disk, new system disks made from it; a clone where asked", async () => {
    const src = spec("uhost-k8simg1");
    await d.create(src);
    await d.start(src, []);
    const reports: number[] = [];
    const req = { instanceId: src.id, imageId: "compshareImage-k8s1", systemDiskGB: 30, acceptedAt: 0 };
    const made = await d.captureImage(req, (p) => reports.push(p.percent));
    assert.deepEqual(made.ref, "snapshot:ocs-img-compshareimage-k8s1");
    assert.equal(made.sizeMB, 30 * 1024, "the source disk's size (kwok's snapshots report none)");
    assert.deepEqual(reports, [0, 100]);
    const snap = kubectlJson<{ metadata: { labels: Record<string, string> }; spec: { source: unknown } }>(
      c,
      "get",
      "volumesnapshot",
      "ocs-img-compshareimage-k8s1",
    );
    assert.deepEqual(snap.spec.source, { persistentVolumeClaimName: `ocs-${src.id}-system` });
    assert.equal(snap.metadata.labels["opencompshare.io/image"], "compshareImage-k8s1");
    const child = spec("uhost-k8simg2", { image: made.ref, baseImage: IMAGE });
    await d.create(child);
    await d.start(child, []);
    assert.deepEqual(
      kubectlJson<V1PersistentVolumeClaim>(c, "get", "pvc", `ocs-${child.id}-system`).spec?.dataSource,
      { apiGroup: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "ocs-img-compshareimage-k8s1" },
    );
    assert.equal(pod(child.id).spec?.containers[0]?.image, IMAGE, "it runs the image it was made from");
    // Clone mode: a claim cloned from the system disk, and new disks cloned from that.
    const cloner = newDriver(c, { imageMode: "clone" });
    const cloned = await cloner.captureImage({ ...req, imageId: "compshareImage-k8s2" }, () => {});
    assert.equal(cloned.ref, "clone:ocs-img-compshareimage-k8s2");
    const clonedFrom = kubectlJson<V1PersistentVolumeClaim>(c, "get", "pvc", "ocs-img-compshareimage-k8s2")
      .spec?.dataSource;
    assert.deepEqual([clonedFrom?.kind, clonedFrom?.name], ["PersistentVolumeClaim", `ocs-${src.id}-system`]);
    assert.deepEqual((await d.listImages()).sort(), ["compshareImage-k8s1", "compshareImage-k8s2"]);
    await d.removeImage("compshareImage-k8s1");
    await d.removeImage("compshareImage-k8s2");
    assert.deepEqual(await d.listImages(), []);
    assert.deepEqual(
      await d.inspect(child.id),
      { exists: true, running: true },
      "its instance keeps running",
    );
    for (const s of [src, child]) await d.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
  });

  it("a cluster without the VolumeSnapshot API says so when asked for a custom image", async () => {
    const bare = await startTestCluster({ nodes: 0, components: [] });
    try {
      const b = newDriver(bare);
      const s = spec("uhost-k8snosnap");
      await b.create(s);
      await assert.rejects(
        b.captureImage(
          { instanceId: s.id, imageId: "compshareImage-k8s3", systemDiskGB: 30, acceptedAt: 0 },
          () => {},
        ),
        /this Kubernetes cluster cannot make custom images: it has no VolumeSnapshot API/,
      );
      assert.deepEqual(await b.listImages(), []);
    } finally {
      await bare.stop();
    }
  });

  it("a running instance's password cannot be changed from outside: it says so", async () => {
    await assert.rejects(d.setPassword(), UnsupportedByRuntime);
  });

  it("reports a pod deleted by someone else, and pods on a node that goes NotReady (deleting them)", async () => {
    const w = newDriver(c);
    const gone: Array<[string, string]> = [];
    const stop = w.watch((id, why) => gone.push([id, why]));
    await w.synced();
    try {
      const a = spec("uhost-k8swatch1", { hostId: "gpu-node-1" });
      const b = spec("uhost-k8swatch2", { hostId: "gpu-node-1" });
      for (const s of [a, b]) {
        await w.create(s);
        await w.start(s, [0]);
      }
      kubectl(c, "delete", "pod", `ocs-${a.id}`, "--wait=false");
      await eventually(() => gone.some(([id]) => id === a.id), "the deletion to be reported");
      assert.match(gone.find(([id]) => id === a.id)?.[1] ?? "", /pod deleted outside opencompshare/);
      await c.setNodeReady("gpu-node-1", false);
      await eventually(() => gone.some(([id]) => id === b.id), "the lost node to be reported");
      assert.match(gone.find(([id]) => id === b.id)?.[1] ?? "", /node gpu-node-1 is NotReady/);
      assert.equal(podExists(b.id), false, "its pod is deleted, so it cannot come back with the node");
      // Asked after its pod is gone, the driver still tells why (the reconciler's sweep shows it).
      const seen = await w.inspect(b.id);
      assert.deepEqual([seen.exists, seen.running], [true, false]);
      assert.match(seen.why ?? "", /node gpu-node-1 is NotReady/);
      // Started again by another replica, its next pod's end is not told with the last one's
      // story: with the informers stopped, nothing says why this one went.
      await c.setNodeReady("gpu-node-1", true);
      await newDriver(c).start({ ...b, hostId: "gpu-node-0" }, [0]);
      assert.equal((await w.inspect(b.id)).running, true, "this replica sees it run");
      stop();
      kubectl(c, "delete", "pod", `ocs-${b.id}`, "--wait=true");
      assert.deepEqual(await w.inspect(b.id), { exists: true, running: false });
      for (const s of [a, b]) await w.destroy(s.id, { releaseDataDisks: true, dataDiskIds: [] });
    } finally {
      stop();
      await c.setNodeReady("gpu-node-1", true);
    }
  });

  it("the fleet: GPU nodes less other workloads' requests; joins, leaves and NotReady are reported", async () => {
    const w = newDriver(c);
    const reports: string[][] = [];
    const stop = w.watchFleet((nodes) =>
      reports.push(nodes.map((n) => `${n.name}:${n.gpus}:${n.schedulable ? "up" : "down"}`)),
    );
    try {
      const last = () => reports[reports.length - 1] ?? [];
      // (node 1 may still carry the not-ready taint of the test before for a moment)
      await eventually(
        () => JSON.stringify(last()) === JSON.stringify(["gpu-node-0:8:up", "gpu-node-1:8:up"]),
        "a fleet report of both nodes, all GPUs free",
      );
      // Another workload takes 3 GPUs of node 1 (not labelled with our store: it counts).
      otherWorkload(c, "other-workload", "gpu-node-1", 3);
      await eventually(() => last().includes("gpu-node-1:5:up"), "the other workload to count");
      await c.addNode("gpu-node-9", { gpus: 4 });
      await eventually(() => last().includes("gpu-node-9:4:up"), "the new node");
      await c.setNodeReady("gpu-node-9", false);
      await eventually(() => last().includes("gpu-node-9:4:down"), "NotReady");
      await c.removeNode("gpu-node-9");
      await eventually(() => !last().some((n) => n.startsWith("gpu-node-9")), "the node to leave");
      kubectl(c, "delete", "pod", "other-workload", "--grace-period=0", "--force");
      await eventually(() => last().includes("gpu-node-1:8:up"), "the other workload's GPUs back");
      assert.deepEqual(await w.fleet(), await newDriver(c).fleet(), "the cache and the API agree");
    } finally {
      stop();
    }
  });

  it("lists only this store's instances: another install's objects on the same cluster are not its", async () => {
    const mine = spec("uhost-k8smine1");
    const other = newDriver(c, { storeId: "another-install" });
    const theirs = spec("uhost-k8stheirs1");
    await d.create(mine);
    await other.create(theirs);
    assert.ok((await d.list()).includes(mine.id));
    assert.ok(!(await d.list()).includes(theirs.id));
    assert.ok((await other.list()).includes(theirs.id));
    await d.destroy(mine.id, { releaseDataDisks: true, dataDiskIds: [] });
    await other.destroy(theirs.id, { releaseDataDisks: true, dataDiskIds: [] });
  });

  it("deploy/kubernetes/ passes the API server's own validation (kubectl apply --dry-run=server)", () => {
    // The namespaces for real first: a dry run cannot place objects in namespaces it only pretends to make.
    kubectl(c, "apply", "-f", join(ROOT, "deploy", "kubernetes", "namespace.yaml"));
    const run = spawnSync(
      c.kubectl,
      ["--kubeconfig", c.kubeconfig, "apply", "--dry-run=server", "-f", join(ROOT, "deploy", "kubernetes")],
      { encoding: "utf8" },
    );
    assert.equal(run.status, 0, run.stderr);
    // The server's namespace warns about pod templates below "restricted": there must be none.
    assert.doesNotMatch(run.stderr, /PodSecurity/, run.stderr);
    const out = run.stdout;
    for (const o of [
      "deployment.apps/opencompshare",
      "service/opencompshare",
      "serviceaccount/opencompshare",
      "clusterrole.rbac.authorization.k8s.io/opencompshare-fleet",
      "role.rbac.authorization.k8s.io/opencompshare-instances",
      "configmap/opencompshare",
    ]) {
      assert.match(
        out,
        new RegExp(`${o.replaceAll(".", "\\.")} (created|configured|unchanged) \\(server dry run\\)`),
      );
    }
  });

  it("the deploy's ServiceAccount has the rights the driver needs, and no others", async () => {
    kubectl(c, "apply", "-f", join(ROOT, "deploy", "kubernetes", "namespace.yaml"));
    kubectl(c, "apply", "-f", join(ROOT, "deploy", "kubernetes", "rbac.yaml"));
    const token = kubectl(c, "-n", "opencompshare", "create", "token", "opencompshare");
    const admin = new KubeConfig();
    admin.loadFromFile(c.kubeconfig);
    const cluster = admin.getCurrentCluster();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: c.apiUrl, caData: cluster?.caData, caFile: cluster?.caFile }],
      users: [{ name: "sa", token }],
      contexts: [{ name: "sa", cluster: "c", user: "sa", namespace: "opencompshare-instances" }],
      currentContext: "sa",
    });
    const restricted = new KubernetesDriver(
      driverOptions(c, { kubeConfig: kc, namespace: "opencompshare-instances", storeId: "sa-test" }),
    );
    const s = spec("uhost-k8ssa1", { dataDisks: [{ id: "bs-k8ssa1", sizeGB: 20 }] });
    const gone: string[] = [];
    const stopWatch = restricted.watch((id) => gone.push(id));
    const fleets: number[] = [];
    const stopFleet = restricted.watchFleet((n) => fleets.push(n.length));
    try {
      await restricted.synced();
      assert.ok((await restricted.fleet()).length >= 2, "nodes and pods are readable cluster-wide");
      await restricted.create(s);
      await restricted.start(s, [0]);
      await restricted.start(s, [0]);
      assert.equal((await restricted.inspect(s.id)).running, true);
      assert.equal(await restricted.hostsFor(s.id, ["bs-k8ssa1"]), undefined, "its bound volumes are read");
      const img = { instanceId: s.id, imageId: "compshareImage-k8ssa", systemDiskGB: 30, acceptedAt: 0 };
      await restricted.captureImage(img, () => {});
      assert.deepEqual(await restricted.listImages(), ["compshareImage-k8ssa"]);
      await restricted.removeImage("compshareImage-k8ssa");
      await restricted.reboot(s.id);
      await restricted.stop(s.id);
      await restricted.start(s, []);
      await restricted.stop(s.id);
      await restricted.reinstall(s);
      assert.deepEqual(await restricted.list(), [s.id]);
      await restricted.destroy(s.id, { releaseDataDisks: true, dataDiskIds: ["bs-k8ssa1"] });
      assert.deepEqual(await restricted.volumes(), []);
      await eventually(() => fleets.length > 0, "a fleet report");
    } finally {
      stopWatch();
      stopFleet();
    }
    // `kubectl auth can-i` answers "no" with exit status 1.
    const can = (verb: string, what: string, ns?: string, ...more: string[]) =>
      spawnSync(
        c.kubectl,
        [
          "--kubeconfig",
          c.kubeconfig,
          "auth",
          "can-i",
          verb,
          what,
          "--as=system:serviceaccount:opencompshare:opencompshare",
          ...(ns ? ["-n", ns] : []),
          ...more,
        ],
        { encoding: "utf8" },
      ).stdout.trim() === "yes";
    for (const [verb, what, ns, ...more] of [
      ["get", "secrets", "opencompshare"],
      ["create", "pods", "default"],
      ["delete", "nodes", undefined],
      ["create", "pods", "opencompshare-instances", "--subresource=exec"],
      ["update", "pods", "opencompshare-instances"],
      ["create", "deployments", "opencompshare-instances"],
    ] as const) {
      assert.equal(
        can(verb, what, ns, ...more),
        false,
        `may not ${verb} ${what} ${more.join(" ")} in ${ns ?? "the cluster"}`,
      );
    }
    assert.equal(can("create", "pods", "opencompshare-instances"), true);
  });
});
