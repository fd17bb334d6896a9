import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

const rename = (id: string, name?: string) =>
  fx.t.call("ModifyCompShareInstanceName", {
    Region: "cn-wlcb",
    UHostId: id,
    ...(name === undefined ? {} : { Name: name }),
  });

describe("ModifyCompShareInstanceName", () => {
  it("renames with CJK, letters, digits and _ . , : -", async () => {
    const id = await fx.running();
    assert.equal((await rename(id, "训练机-1_a.b,c:d")).RetCode, 0);
    assert.equal((await fx.describe(id))?.Name, "训练机-1_a.b,c:d");
  });

  it("names the bad or missing parameter; an unknown id is not found", async () => {
    // Docs (ModifyName): at most 63 characters of CJK, letters, digits and `_ . , : -`.
    const id = await fx.running();
    assert.match(String((await rename(id, "bad/name")).Message), /\[Name\]/);
    assert.match(String((await rename(id, "x".repeat(64))).Message), /Params \[Name\].*63/);
    assert.equal((await rename(id)).RetCode, 210);
    assert.equal((await rename("uhost-missing1", "x")).RetCode, 8039);
    assert.equal((await fx.describe(id))?.Name, "4090-instance", "unchanged");
  });

  it("race: refused while an operation holds the lock; two concurrent renames both apply", async () => {
    const id = await fx.running();
    const stop = fx.hold("stop");
    assert.equal((await fx.t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await stop.reached();
    const busy = await rename(id, "x");
    assert.equal(busy.RetCode, 8040);
    assert.match(String(busy.Message), /InstanceOperationInProgress/);
    stop.release();
    await fx.settle();
    // A rename is instant and takes no lock: both calls are accepted; the last write wins.
    const answers = await Promise.all([rename(id, "first"), rename(id, "second")]);
    assert.deepEqual(
      answers.map((r) => r.RetCode),
      [0, 0],
    );
    assert.ok(["first", "second"].includes(String((await fx.describe(id))?.Name)));
  });
});
