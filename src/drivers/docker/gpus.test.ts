import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { containerEnv, discoverGpus, gpuWiring, parseNvidiaSmi } from "./gpus.js";

/** A stand-in nvidia-smi printing a 4-GPU H100 inventory, as CI has no GPU. */
function fakeNvidiaSmi(): string {
  const dir = mkdtempSync(join(tmpdir(), "ocs-fake-smi-"));
  const path = join(dir, "nvidia-smi");
  const rows = [0, 1, 2, 3]
    .map((i) => `${i}, GPU-0000000${i}-aaaa-bbbb-cccc-ddddeeeeffff, NVIDIA H100 80GB HBM3, 81559`)
    .join("\n");
  writeFileSync(
    path,
    `#!/bin/sh\ncase "$*" in *--query-gpu=index,uuid,name,memory.total*) printf '%s\\n' "${rows}";; *) exit 2;; esac\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe("GPU discovery and device wiring", () => {
  const inventory = discoverGpus(fakeNvidiaSmi());

  it("discovers the host's GPUs with nvidia-smi", () => {
    assert.equal(inventory.length, 4);
    assert.deepEqual(inventory[2], {
      index: 2,
      uuid: "GPU-00000002-aaaa-bbbb-cccc-ddddeeeeffff",
      name: "NVIDIA H100 80GB HBM3",
      memoryMiB: 81559,
    });
    assert.throws(() => parseNvidiaSmi("garbage"), /cannot read nvidia-smi line/);
  });

  it("devices mode: exactly the held GPUs' nodes, the control nodes, and the driver files read-only", () => {
    const w = gpuWiring("devices", [1, 3], inventory, {
      libDir: "/usr/local/nvidia/lib64",
      nvidiaSmi: "/usr/bin/nvidia-smi",
    });
    assert.deepEqual(
      w.Devices.map((d) => d.PathOnHost),
      ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia1", "/dev/nvidia3"],
    );
    assert.ok(w.Devices.every((d) => d.CgroupPermissions === "rwm" && d.PathInContainer === d.PathOnHost));
    assert.deepEqual(w.Binds, [
      "/usr/local/nvidia/lib64:/usr/local/nvidia/lib64:ro",
      "/usr/bin/nvidia-smi:/usr/bin/nvidia-smi:ro",
    ]);
    assert.deepEqual(w.Env, [
      "LD_LIBRARY_PATH=/usr/local/nvidia/lib64",
      "NVIDIA_VISIBLE_DEVICES=GPU-00000001-aaaa-bbbb-cccc-ddddeeeeffff,GPU-00000003-aaaa-bbbb-cccc-ddddeeeeffff",
    ]);
    assert.deepEqual(w.DeviceRequests, []);
    assert.throws(() => gpuWiring("devices", [7], inventory, {}), /GPU 7 is not on this host/);
  });

  it("nvidia-runtime mode: DeviceRequests with the held GPUs' UUIDs", () => {
    const w = gpuWiring("nvidia-runtime", [0], inventory, {});
    assert.deepEqual(w.DeviceRequests, [
      { Driver: "nvidia", DeviceIDs: ["GPU-00000000-aaaa-bbbb-cccc-ddddeeeeffff"], Capabilities: [["gpu"]] },
    ]);
    assert.deepEqual(w.Devices, []);
  });

  it("without GPU: no device at all and NVIDIA_VISIBLE_DEVICES=void; the driver's files stay mounted", () => {
    for (const mode of ["nvidia-runtime", "none"] as const) {
      const w = gpuWiring(mode, [], inventory, { libDir: "/x", nvidiaSmi: "/y" });
      assert.deepEqual(
        [w.Devices, w.Binds, w.DeviceRequests, w.Env],
        [[], [], [], ["NVIDIA_VISIBLE_DEVICES=void"]],
      );
    }
    // As a GPU VM keeps its driver: nvidia-smi is there and finds no device; the same mounts as
    // with GPUs, so a snapshot across the change has no stale mount point.
    const files = { libDir: "/x", nvidiaSmi: "/y" };
    const w = gpuWiring("devices", [], inventory, files);
    assert.deepEqual([w.Devices, w.DeviceRequests], [[], []]);
    assert.deepEqual(w.Binds, gpuWiring("devices", [2], inventory, files).Binds);
    assert.deepEqual(w.Env, ["LD_LIBRARY_PATH=/usr/local/nvidia/lib64", "NVIDIA_VISIBLE_DEVICES=void"]);
  });

  it("container env: the image's own with the wiring on top; stale snapshot keys blanked", () => {
    const image = ["PATH=/usr/bin:/bin", "LD_LIBRARY_PATH=/opt/conda/lib", "LANG=C.UTF-8"];
    // A snapshot taken while GPUs were wired, restarted without GPU: its library path and GPU list go.
    const snapshot = [
      ...image.slice(0, 1),
      "LD_LIBRARY_PATH=/usr/local/nvidia/lib64",
      "NVIDIA_VISIBLE_DEVICES=GPU-1",
    ];
    assert.deepEqual(containerEnv(image, snapshot, ["NVIDIA_VISIBLE_DEVICES=void"]), [
      "PATH=/usr/bin:/bin",
      "LD_LIBRARY_PATH=/opt/conda/lib",
      "LANG=C.UTF-8",
      "NVIDIA_VISIBLE_DEVICES=void",
    ]);
    // With GPUs: the driver libraries go first, the image's own path is kept once.
    assert.deepEqual(
      containerEnv(image, [], ["NVIDIA_VISIBLE_DEVICES=GPU-1", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64"]),
      [
        "PATH=/usr/bin:/bin",
        "LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/opt/conda/lib",
        "LANG=C.UTF-8",
        "NVIDIA_VISIBLE_DEVICES=GPU-1",
      ],
    );
    // A key only the snapshot has (wired before, not now) is blanked rather than inherited.
    assert.deepEqual(containerEnv(["A=1"], ["A=1", "LD_LIBRARY_PATH=/usr/local/nvidia/lib64"], []), [
      "A=1",
      "LD_LIBRARY_PATH=",
    ]);
  });
});
