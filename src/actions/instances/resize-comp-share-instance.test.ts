import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("ResizeCompShareInstance", () => {
  it("Resize: a legal spec or a disk grow, never both; stays Stopped", async () => {
    // Docs (Resize): only Stopped; compute and disk resize cannot be combined; the new spec must be a
    // legal combination for the GpuType; disks only grow; it stays Stopped afterwards.
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    const both = await t.call("ResizeCompShareInstance", {
      ...Z,
      UHostId: id,
      Gpu: 2,
      DiskId: "x",
      DiskSpace: "100",
    });
    assert.match(String(both.Message), /cannot be combined/);
    const illegal = await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, Gpu: 2 });
    assert.match(String(illegal.Message), /Params \[Cpu\].*choose one of 32/);
    assert.equal(
      (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, Gpu: 2, Cpu: 32, Memory: 131072 }))
        .RetCode,
      0,
    );
    await fx.settle();
    let u = await fx.expectState(id, "Stopped");
    assert.deepEqual([u.GPU, u.CPU, u.Memory], [2, 32, 131072]);
    const tooBig = await t.call("ResizeCompShareInstance", {
      ...Z,
      UHostId: id,
      Gpu: 4,
      Cpu: 64,
      Memory: 262144,
    });
    assert.equal(tooBig.RetCode, 8048, String(tooBig.Message));
    const boot = (u.DiskSet as Array<{ DiskId: string; Size: number }>)[0]!;
    assert.match(
      String(
        (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, DiskId: boot.DiskId, DiskSpace: "40" }))
          .Message,
      ),
      /only grow/,
    );
    assert.equal(
      (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, DiskId: boot.DiskId, DiskSpace: "80" }))
        .RetCode,
      0,
    );
    await fx.settle();
    u = await fx.expectState(id, "Stopped");
    assert.equal((u.DiskSet as Array<{ Size: number }>)[0]!.Size, 80);
    await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    await fx.settle();
    await fx.expectState(id, "Running");
    assert.equal((await fx.gpusHeld()).length, 2);
    assert.equal(
      (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, Gpu: 1, Cpu: 16, Memory: 65536 }))
        .RetCode,
      8041,
    );
  });

  it("names the missing parameter; an unknown id is not found", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    const none = await t.call("ResizeCompShareInstance", { ...Z, UHostId: id });
    assert.equal(none.RetCode, 210);
    const half = await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, DiskSpace: "80" });
    assert.equal(half.RetCode, 210);
    assert.match(String(half.Message), /\[DiskId\]/);
    const nf = await t.call("ResizeCompShareInstance", {
      ...Z,
      UHostId: "uhost-missing1",
      Gpu: 2,
      Cpu: 32,
      Memory: 131072,
    });
    assert.equal(nf.RetCode, 8039);
  });

  it("race: two concurrent Resizes, exactly one accepted, the other told the lock is held", async () => {
    const id = await fx.running();
    await fx.stopped(id);
    // Resize has no driver call to hold (the new limits apply at the next start), so the worker is
    // paused instead: the transition stays queued, its lock held, until the worker runs again.
    const [won, lost] = await fx.paused(async () => {
      const answers = await fx.race("ResizeCompShareInstance", {
        ...Z,
        UHostId: id,
        Gpu: 2,
        Cpu: 32,
        Memory: 131072,
      });
      await fx.expectState(id, "Resizing");
      return answers;
    });
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    // Resize ends where it began (Stopped): only the held lock tells the second call apart.
    assert.equal(lost?.RetCode, 8040, JSON.stringify([won, lost]));
    await fx.settle();
    const u = await fx.expectState(id, "Stopped");
    assert.deepEqual([u.GPU, u.CPU, u.Memory], [2, 32, 131072]);
  });

  it("WithoutGpuSpec puts a stopped instance in no-GPU mode: plain starts run without GPU until a GPU spec again", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    assert.equal(
      (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, WithoutGpuSpec: "A" })).RetCode,
      0,
    );
    await fx.settle();
    assert.deepEqual((await fx.expectState(id, "Stopped")).WithoutGpuSpec, { Cpu: 2, Gpu: 0, Memory: 8192 });
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await fx.settle();
    assert.equal((await fx.expectState(id, "Running")).GPU, 0, "the mode a Resize set");
    await fx.stopped(id);
    // A start may still ask for its GPUs explicitly.
    assert.equal(
      (await t.call("StartCompShareInstance", { ...Z, UHostId: id, WithoutGpu: false })).RetCode,
      0,
    );
    await fx.settle();
    assert.equal((await fx.expectState(id, "Running")).GPU, 1);
    await fx.stopped(id);
    // A GPU spec again leaves the mode.
    assert.equal(
      (await t.call("ResizeCompShareInstance", { ...Z, UHostId: id, Gpu: 1, Cpu: 16, Memory: 65536 }))
        .RetCode,
      0,
    );
    await fx.settle();
    assert.equal((await t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await fx.settle();
    assert.equal((await fx.expectState(id, "Running")).GPU, 1);
    await fx.stopped(id);
    const mixed = await t.call("ResizeCompShareInstance", {
      ...Z,
      UHostId: id,
      WithoutGpuSpec: "A",
      Cpu: 16,
    });
    assert.equal(mixed.RetCode, 230);
    assert.match(String(mixed.Message), /\[WithoutGpuSpec\].*sent alone/);
  });
});
