import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParams } from "../../../test/helpers.js";
import type { Catalog } from "../../domain/catalog.js";
import { InstanceFixture, SMALL_CATALOG, Z } from "./fixtures.test-support.js";

/** Two 4-GPU hosts: room for more GPUs than the quotas below allow. */
const ROOMY: Catalog = {
  ...SMALL_CATALOG,
  hosts: [
    { id: "h1", zone: "cn-wlcb-01", gpuType: "4090", gpus: 4, cpu: 128, memoryMB: 524288 },
    { id: "h2", zone: "cn-wlcb-01", gpuType: "4090", gpus: 4, cpu: 128, memoryMB: 524288 },
  ],
};

const fx = new InstanceFixture({ catalog: ROOMY });

/** An account holding at most `gpus` GPUs at once. */
async function account(gpus: number) {
  const a = await fx.t.server.services.accounts.createAccount(
    `gpuq-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
    {
      gpuQuota: gpus,
    },
  );
  return a.keyPair;
}

describe("GPU quota", () => {
  it("Create past the account's GPU quota is refused with a clear error while GPUs are free", async () => {
    const keys = await account(2);
    assert.equal((await fx.t.call("CreateCompShareInstance", createParams(), keys)).RetCode, 0);
    const two = await fx.t.call(
      "CreateCompShareInstance",
      createParams({ GPU: 2, CPU: 32, Memory: 131072 }),
      keys,
    );
    // On main this succeeded: the instance quota (100) counts instances, not GPUs.
    assert.equal(two.RetCode, 8046);
    assert.equal(
      two.Message,
      "GPU quota exceeded: the account may hold 2 GPUs at once, holds 1 and asks for 2 more; stop an instance or start this one with WithoutGpu=true",
    );
    assert.equal((await fx.t.call("CreateCompShareInstance", createParams(), keys)).RetCode, 0);
    await fx.settle();
  });

  it("MaxCount is counted as a whole: all or none", async () => {
    const keys = await account(2);
    const r = await fx.t.call("CreateCompShareInstance", createParams({ MaxCount: 3 }), keys);
    assert.equal(r.RetCode, 8046);
    assert.deepEqual(await fx.t.server.internals.db.all("SELECT id FROM instances"), []);
  });

  it("stopped instances hold no GPUs; Start is checked against the quota; WithoutGpu needs none", async () => {
    const keys = await account(1);
    const first = await fx.t.call("CreateCompShareInstance", createParams(), keys);
    const a = (first.UHostIds as string[])[0] as string;
    await fx.settle();
    assert.equal((await fx.t.call("StopCompShareInstance", { ...Z, UHostId: a }, keys)).RetCode, 0);
    await fx.settle();
    const second = await fx.t.call("CreateCompShareInstance", createParams(), keys);
    assert.equal(second.RetCode, 0);
    await fx.settle();
    const start = await fx.t.call("StartCompShareInstance", { ...Z, UHostId: a }, keys);
    assert.equal(start.RetCode, 8046);
    assert.match(String(start.Message), /holds 1 and asks for 1 more/);
    const state = async () =>
      (
        (await fx.t.call("DescribeCompShareInstance", { Region: "cn-wlcb", UHostIds: [a] }, keys))
          .UHostSet as Array<{
          State: string;
        }>
      )[0]?.State;
    assert.equal(await state(), "Stopped");
    const noGpu = await fx.t.call("StartCompShareInstance", { ...Z, UHostId: a, WithoutGpu: true }, keys);
    assert.equal(noGpu.RetCode, 0);
    await fx.settle();
    assert.equal(await state(), "Running");
  });

  it("race: concurrent creates of one account never exceed its GPU quota", async () => {
    const keys = await account(1);
    const answers = await Promise.all(
      [0, 1, 2].map(() => fx.t.call("CreateCompShareInstance", createParams(), keys)),
    );
    assert.deepEqual(answers.map((r) => r.RetCode).sort(), [0, 8046, 8046]);
    await fx.settle();
    assert.equal((await fx.gpusHeld()).length, 1);
  });
});
