import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Node, V1Pod, V1Service } from "@kubernetes/client-node";
import type { RuntimeSpec } from "../driver.js";
import { podFor, serviceFor } from "./objects.js";
import { accessOf, sameShape, startVerdict } from "./pod-status.js";
import { nodeMatches } from "./view.js";

const timeouts = { scheduleTimeoutMs: 60_000, startTimeoutMs: 240_000 };
const pending = (message: string): V1Pod => ({
  status: {
    phase: "Pending",
    conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message }],
  },
});

describe("kubernetes pod status", () => {
  it("a pod the scheduler cannot place fails after the schedule timeout, with its reason", () => {
    const p = pending("0/4 nodes are available: 4 Insufficient nvidia.com/gpu.");
    assert.equal(startVerdict(p, 59_000, false, timeouts), undefined, "still waiting");
    assert.deepEqual(startVerdict(p, 60_000, false, timeouts), {
      fail: "not scheduled within 60 s: 0/4 nodes are available: 4 Insufficient nvidia.com/gpu.",
    });
  });

  it("a container that cannot start fails at once; one still pulling fails only at the end", () => {
    const scheduled = (waiting: string): V1Pod => ({
      status: {
        phase: "Pending",
        conditions: [{ type: "PodScheduled", status: "True" }],
        containerStatuses: [
          {
            name: "instance",
            image: "",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: waiting, message: "pull access denied" } },
          },
        ],
      },
    });
    assert.deepEqual(startVerdict(scheduled("ErrImagePull"), 1000, false, timeouts), {
      fail: "container instance: ErrImagePull: pull access denied",
    });
    assert.equal(startVerdict(scheduled("ContainerCreating"), 100_000, false, timeouts), undefined);
    assert.deepEqual(startVerdict(scheduled("ContainerCreating"), 300_000, true, timeouts), {
      fail: "not running within 300 s (ContainerCreating)",
    });
    const running: V1Pod = { status: { phase: "Running" } };
    assert.deepEqual(startVerdict(running, 5, false, timeouts), { done: running });
    assert.deepEqual(startVerdict(undefined, 5, false, timeouts), {
      fail: "the pod was deleted while the instance was starting",
    });
  });

  it("a pod is reused only when it is the one wanted (GPUs, CPU, memory, node, image, volumes)", () => {
    const spec: RuntimeSpec = {
      id: "uhost-a",
      image: "img",
      imageId: "x",
      cpu: 4,
      memoryMB: 8192,
      hostId: "n1",
      dataDisks: [],
      password: "p",
    };
    const opts = { storeId: "s", persistPaths: ["/root"] };
    const want = podFor(spec, 1, opts);
    assert.ok(sameShape(podFor(spec, 1, opts), want));
    assert.ok(!sameShape(podFor(spec, 0, opts), want), "without GPU");
    assert.ok(!sameShape(podFor({ ...spec, cpu: 8 }, 1, opts), want));
    assert.ok(!sameShape(podFor({ ...spec, hostId: "n2" }, 1, opts), want));
    assert.ok(!sameShape(podFor({ ...spec, dataDisks: [{ id: "bs-1", sizeGB: 1 }] }, 1, opts), want));
  });

  it("software ports are reached the way SSH is: node ports, a load balancer's ports, or the cluster IP's", () => {
    const svc = serviceFor("uhost-a", "s", "NodePort", { http: [8888], tcp: [23] });
    assert.deepEqual(
      svc.spec?.ports?.map((p) => [p.name, p.port]),
      [
        ["ssh", 22],
        ["http-8888", 8888],
        ["tcp-23", 23],
      ],
    );
    const [ssh, http, tcp] = svc.spec?.ports ?? [];
    Object.assign(ssh ?? {}, { nodePort: 30022 });
    Object.assign(http ?? {}, { nodePort: 30888 });
    Object.assign(tcp ?? {}, { nodePort: 30023 });
    const node: V1Node = { status: { addresses: [{ type: "InternalIP", address: "10.1.1.1" }] } };
    assert.deepEqual(accessOf(svc, node, undefined), {
      ip: "10.1.1.1",
      sshPort: 30022,
      ports: { "http/8888": 30888, "tcp/23": 30023 },
    });
    svc.status = { loadBalancer: { ingress: [{ hostname: "lb.example.com" }] } };
    assert.deepEqual(accessOf(svc, node, undefined), {
      ip: "lb.example.com",
      sshPort: 22,
      ports: { "http/8888": 8888, "tcp/23": 23 },
    });
  });

  it("SSH is reached through a load balancer, else a node port on the access host or the node, else the cluster IP", () => {
    const svc = (more: Partial<V1Service> = {}): V1Service => ({
      spec: { clusterIP: "10.0.0.9", ports: [{ name: "ssh", port: 22, nodePort: 31022 }] },
      ...more,
    });
    const node: V1Node = {
      status: {
        addresses: [
          { type: "InternalIP", address: "192.168.1.5" },
          { type: "ExternalIP", address: "203.0.113.5" },
        ],
      },
    };
    assert.deepEqual(accessOf(svc(), node, undefined), { ip: "203.0.113.5", sshPort: 31022, ports: {} });
    assert.deepEqual(accessOf(svc(), node, "gpu.example.com"), {
      ip: "gpu.example.com",
      sshPort: 31022,
      ports: {},
    });
    assert.deepEqual(
      accessOf(svc({ status: { loadBalancer: { ingress: [{ ip: "198.51.100.7" }] } } }), node, undefined),
      {
        ip: "198.51.100.7",
        sshPort: 22,
        ports: {},
      },
    );
    assert.deepEqual(
      accessOf({ spec: { clusterIP: "10.0.0.9", ports: [{ name: "ssh", port: 22 }] } }, undefined, undefined),
      {
        ip: "10.0.0.9",
        sshPort: 22,
        ports: {},
      },
    );
  });

  it("a volume's node affinity matches nodes as the scheduler does", () => {
    const n: V1Node = {
      metadata: { name: "gpu-3", labels: { "topology.kubernetes.io/zone": "z1", cores: "64" } },
    };
    const zone = (op: string, ...values: string[]) => [
      { matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: op, values }] },
    ];
    assert.ok(nodeMatches(n, zone("In", "z1", "z2")));
    assert.ok(!nodeMatches(n, zone("NotIn", "z1")));
    assert.ok(nodeMatches(n, zone("Exists")));
    assert.ok(!nodeMatches(n, zone("DoesNotExist")));
    assert.ok(nodeMatches(n, [{ matchExpressions: [{ key: "cores", operator: "Gt", values: ["32"] }] }]));
    assert.ok(
      nodeMatches(n, [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["gpu-3"] }] }]),
    );
    assert.ok(
      !nodeMatches(n, [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["gpu-4"] }] }]),
    );
    assert.ok(nodeMatches(n, [...zone("In", "z9"), ...zone("In", "z1")]), "any one term");
  });
});
