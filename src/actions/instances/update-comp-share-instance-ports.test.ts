import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();
const CONTAINER = { CompShareImageId: "compshareImage-pytorch21" };

type Soft = Array<{ Name: string; URL: string }>;

describe("UpdateCompShareInstancePorts", () => {
  it("a container instance publishes its image's software; a complete replacement is live from the next start", async () => {
    const { t } = fx;
    const id = await fx.running(CONTAINER);
    assert.match(id, /^cpod-/);
    const u = await fx.describe(id);
    const ip = (u?.IPSet as Array<{ IP: string }>)[0]?.IP;
    assert.deepEqual(u?.Softwares, [{ Name: "JupyterLab", URL: `http://${ip}:8888` }]);
    const r = await t.call("UpdateCompShareInstancePorts", {
      ...Z,
      UHostId: id,
      HttpPorts: [8188, 6006],
      TcpPorts: [23],
    });
    assert.deepEqual([r.RetCode, r.UHostId], [0, id]);
    await fx.settle();
    // Running: the runtime took its ports when it started; the new set shows after the next start.
    assert.deepEqual((await fx.expectState(id, "Running")).Softwares, [
      { Name: "JupyterLab", URL: `http://${ip}:8888` },
    ]);
    await fx.stopped(id);
    assert.deepEqual((await fx.describe(id))?.Softwares, [], "nothing is live while stopped");
    await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    await fx.settle();
    assert.deepEqual((await fx.expectState(id, "Running")).Softwares as Soft, [
      { Name: "TCP 23", URL: `tcp://${ip}:23` },
      { Name: "TensorBoard", URL: `http://${ip}:6006` },
      { Name: "ComfyUI", URL: `http://${ip}:8188` },
    ]);
    // No list at all: nothing but SSH.
    assert.equal((await t.call("UpdateCompShareInstancePorts", { ...Z, UHostId: id })).RetCode, 0);
    await fx.settle();
    await fx.stopped(id);
    await t.call("StartCompShareInstance", { ...Z, UHostId: id });
    await fx.settle();
    assert.deepEqual((await fx.expectState(id, "Running")).Softwares, []);
  });

  it("ranges, duplicates, SSH's port and counts are checked; VM instances have none", async () => {
    const { t } = fx;
    const id = await fx.running(CONTAINER);
    const ask = (p: Record<string, number[]>) =>
      t.call("UpdateCompShareInstancePorts", { ...Z, UHostId: id, ...p });
    assert.match(String((await ask({ HttpPorts: [0] })).Message), /Params \[HttpPorts\.0\].*1-65535/);
    assert.match(String((await ask({ TcpPorts: [70000] })).Message), /\[TcpPorts\.0\]/);
    assert.match(String((await ask({ HttpPorts: [22] })).Message), /22 is the SSH port/);
    assert.match(String((await ask({ HttpPorts: [80, 80] })).Message), /\[HttpPorts\.1\].*listed twice/);
    assert.match(
      String((await ask({ HttpPorts: [80], TcpPorts: [80] })).Message),
      /\[TcpPorts\.0\].*also in HttpPorts/,
    );
    const eleven = Array.from({ length: 11 }, (_, i) => 9000 + i);
    assert.match(String((await ask({ HttpPorts: eleven })).Message), /\[HttpPorts\].*at most 10/);
    const vm = await fx.running();
    const refused = await t.call("UpdateCompShareInstancePorts", { ...Z, UHostId: vm, HttpPorts: [8080] });
    assert.equal(refused.RetCode, 8440);
    assert.match(String(refused.Message), /container instances \(cpod-\)/);
    assert.equal(
      (await t.call("UpdateCompShareInstancePorts", { ...Z, UHostId: "cpod-nothere", HttpPorts: [1] }))
        .RetCode,
      8039,
    );
  });

  it("race: two updates at once, exactly one accepted, the other told the lock is held", async () => {
    const id = await fx.running(CONTAINER);
    const [won, lost] = await fx.paused(() =>
      fx.race("UpdateCompShareInstancePorts", { ...Z, UHostId: id, HttpPorts: [7860] }),
    );
    assert.equal(won?.RetCode, 0, JSON.stringify([won, lost]));
    assert.equal(lost?.RetCode, 8040, JSON.stringify(lost));
    await fx.settle();
    await fx.expectState(id, "Running");
  });
});
