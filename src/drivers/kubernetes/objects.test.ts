import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { RuntimeSpec } from "../driver.js";
import { LABELS, podFor, seedScript, subPathOf } from "./objects.js";
import { parseQuantity } from "./quantity.js";
import { fleetOf, nodeTrouble, podDemand, podGone } from "./view.js";

const spec: RuntimeSpec = {
  id: "uhost-abc",
  image: "ubuntu:22.04",
  imageId: "compshareImage-ubuntu2204",
  cpu: 16,
  memoryMB: 65536,
  hostId: "gpu-node-1",
  systemDiskGB: 50,
  dataDisks: [{ id: "bs-data1", sizeGB: 100 }],
  password: "pw",
};
const opts = { storeId: "store-x", persistPaths: ["/root", "/home"] };

describe("kubernetes quantities", () => {
  it("parses what nodes and pods carry", () => {
    assert.equal(parseQuantity("8"), 8);
    assert.equal(parseQuantity("63500m"), 63.5);
    assert.equal(parseQuantity("512Gi"), 512 * 2 ** 30);
    assert.equal(parseQuantity("1.5Gi"), 1.5 * 2 ** 30);
    assert.equal(parseQuantity("64Mi"), 64 * 2 ** 20);
    assert.equal(parseQuantity("1e3"), 1000);
    assert.equal(parseQuantity("2k"), 2000);
    assert.equal(parseQuantity(undefined), 0);
    assert.throws(() => parseQuantity("12 apples"), /not a Kubernetes quantity/);
  });
});

describe("kubernetes pod of an instance", () => {
  it("asks for exactly its GPUs, CPU and memory, on its own node, with its disks and password", () => {
    const pod = podFor(spec, 2, opts);
    const c = pod.spec?.containers[0];
    assert.deepEqual(c?.resources?.limits, { cpu: "16", memory: "65536Mi", "nvidia.com/gpu": "2" });
    assert.deepEqual(c?.resources?.requests, c?.resources?.limits, "requests = limits: Guaranteed QoS");
    assert.equal(c?.env, undefined, "the device plugin sets NVIDIA_VISIBLE_DEVICES");
    assert.deepEqual(pod.metadata?.labels, { [LABELS.store]: "store-x", [LABELS.instance]: "uhost-abc" });
    assert.deepEqual(
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms,
      [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["gpu-node-1"] }] }],
    );
    assert.equal(pod.spec?.nodeName, undefined, "the scheduler binds it, so it says why when it cannot");
    assert.equal(pod.spec?.restartPolicy, "Never");
    assert.equal(pod.spec?.automountServiceAccountToken, false, "an instance gets no cluster credentials");
    assert.deepEqual(
      c?.volumeMounts?.map((m) => [m.mountPath, m.name, m.subPath ?? ""]),
      [
        ["/root", "system", "root"],
        ["/home", "system", "home"],
        ["/etc/opencompshare", "password", ""],
        ["/mnt/bs-data1", "data-0", ""],
      ],
    );
    assert.deepEqual(
      pod.spec?.volumes?.map((v) => v.persistentVolumeClaim?.claimName ?? v.secret?.secretName),
      ["ocs-uhost-abc-system", "ocs-uhost-abc", "ocs-bs-data1"],
    );
    assert.deepEqual(pod.spec?.initContainers?.[0]?.resources?.limits, { cpu: "16", memory: "65536Mi" });
  });

  it("started without GPU it requests none and hides the GPUs from images that ask for all", () => {
    const c = podFor(spec, 0, opts).spec?.containers[0];
    assert.deepEqual(c?.resources?.limits, { cpu: "16", memory: "65536Mi" });
    assert.deepEqual(c?.env, [{ name: "NVIDIA_VISIBLE_DEVICES", value: "void" }]);
  });

  it("runs the catalog command through the image's entrypoint, or a keep-alive loop", () => {
    assert.deepEqual(
      podFor({ ...spec, command: ["/usr/sbin/sshd", "-D"] }, 0, opts).spec?.containers[0]?.args,
      ["/usr/sbin/sshd", "-D"],
    );
    assert.equal(podFor(spec, 0, opts).spec?.containers[0]?.command, undefined);
  });

  it("seeds the system disk from the image once, and never over what the instance wrote", () => {
    const root = mkdtempSync(join(tmpdir(), "ocs-seed-"));
    const image = join(root, "image");
    const disk = join(root, "disk");
    mkdirSync(join(image, "root", ".ssh"), { recursive: true });
    writeFileSync(join(image, "root", ".bashrc"), "from the image");
    mkdirSync(disk);
    const paths = [join(image, "root"), join(image, "opt")];
    const script = seedScript(paths).replaceAll("/ocs-system", disk);
    execFileSync("sh", ["-c", script]);
    const seeded = join(disk, subPathOf(join(image, "root")));
    assert.equal(readFileSync(join(seeded, ".bashrc"), "utf8"), "from the image");
    writeFileSync(join(seeded, ".bashrc"), "the user's");
    execFileSync("sh", ["-c", script]);
    assert.equal(readFileSync(join(seeded, ".bashrc"), "utf8"), "the user's", "a second start keeps it");
    assert.equal(subPathOf("/usr/local/"), "usr_local");
  });
});

const node = (name: string, gpus: string, extra: Partial<V1Node["spec"]> = {}, ready = "True"): V1Node => ({
  metadata: { name, labels: { "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3" } },
  spec: extra,
  status: {
    allocatable: { cpu: "63500m", memory: "512Gi", "nvidia.com/gpu": gpus },
    conditions: [
      { type: "Ready", status: ready, message: ready === "True" ? "" : "kubelet stopped posting" },
    ],
  },
});
const pod = (node: string, gpus: number, labels: Record<string, string> = {}, phase = "Running"): V1Pod => ({
  metadata: { name: `p-${Math.random()}`, namespace: "x", labels },
  spec: {
    nodeName: node,
    containers: [
      { name: "c", resources: { limits: { "nvidia.com/gpu": String(gpus), cpu: "2", memory: "1Gi" } } },
    ],
    initContainers: [{ name: "i", resources: { requests: { cpu: "4" } } }],
  },
  status: { phase },
});

describe("kubernetes fleet", () => {
  it("counts other workloads' pods against a node, not this store's, not finished ones", () => {
    const fleet = fleetOf(
      [node("a", "8"), node("b", "4"), node("cpu-only", "0")],
      [
        pod("a", 3),
        pod("a", 1, { [LABELS.store]: "other-install" }),
        pod("a", 2, { [LABELS.store]: "mine" }),
        pod("b", 4, {}, "Succeeded"),
      ],
      "mine",
    );
    assert.deepEqual(
      fleet.map((n) => [n.name, n.gpus, n.cpu, n.memoryMB]),
      [
        // 63.5 CPU less two pods' init containers (4 each: the larger of init and main)
        ["a", 4, 55, 512 * 1024 - 2048],
        ["b", 4, 63, 512 * 1024],
      ],
    );
    assert.equal(fleet[0]?.gpuProduct, "NVIDIA-H100-80GB-HBM3");
  });

  it("a pod's demand is the larger of its containers and its largest init container, plus overhead", () => {
    const p = pod("a", 1);
    p.spec = { ...p.spec, containers: p.spec?.containers ?? [], overhead: { cpu: "250m" } };
    assert.deepEqual(podDemand(p), { gpus: 1, cpu: 4.25, memory: 2 ** 30 });
  });

  it("a NotReady, cordoned or tainted node takes nothing new; the GPU taint is tolerated", () => {
    assert.match(
      nodeTrouble(node("a", "8", {}, "False")) ?? "",
      /node a is NotReady: kubelet stopped posting/,
    );
    assert.match(nodeTrouble(node("a", "8", { unschedulable: true })) ?? "", /cordoned/);
    assert.match(
      nodeTrouble(node("a", "8", { taints: [{ key: "maintenance", effect: "NoSchedule" }] })) ?? "",
      /tainted maintenance:NoSchedule/,
    );
    assert.equal(
      nodeTrouble(node("a", "8", { taints: [{ key: "nvidia.com/gpu", effect: "NoSchedule" }] })),
      undefined,
    );
    assert.equal(
      nodeTrouble(node("a", "8", { taints: [{ key: "x", effect: "PreferNoSchedule" }] })),
      undefined,
    );
  });

  it("says why a pod no longer runs its instance", () => {
    assert.equal(podGone(pod("a", 1)), undefined);
    const evicted = pod("a", 1, {}, "Failed");
    evicted.status = {
      ...evicted.status,
      reason: "Evicted",
      message: "The node was low on resource: memory.",
    };
    assert.equal(podGone(evicted), "instance process ended: Evicted: The node was low on resource: memory.");
    const oom = pod("a", 1, {}, "Failed");
    oom.status = {
      ...oom.status,
      containerStatuses: [
        {
          name: "c",
          image: "",
          imageID: "",
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 137, reason: "OOMKilled" } },
        },
      ],
    };
    assert.equal(podGone(oom), "instance process ended: OOMKilled (code 137)");
    const drained = pod("a", 1);
    drained.metadata = { ...drained.metadata, deletionTimestamp: new Date() };
    drained.status = {
      ...drained.status,
      conditions: [
        {
          type: "DisruptionTarget",
          status: "True",
          reason: "EvictionByEvictionAPI",
          message: "Eviction API: evicting",
        },
      ],
    };
    assert.equal(podGone(drained), "pod disrupted (EvictionByEvictionAPI: Eviction API: evicting)");
  });
});
