import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z, b64 } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

const reset = (id: string, password: string) =>
  fx.t.call("ResetCompShareInstancePassword", { ...Z, UHostId: id, Password: b64(password) });

describe("ResetCompShareInstancePassword", () => {
  it("base64, checked by the rule, VM only when Stopped", async () => {
    // Docs (ResetPassword): VM instances only when Stopped; 8–32 characters, at least 2 of
    // upper/lower/digit/special, from the documented character set; the password travels base64.
    const { t } = fx;
    const id = await fx.running();
    assert.equal((await reset(id, "Abcdefgh1")).RetCode, 8041);
    await fx.stopped(id);
    assert.match(String((await reset(id, "abcdefgh")).Message), /at least two/);
    assert.match(String((await reset(id, "Abcdefgh 1")).Message), /may contain only/);
    assert.equal((await reset(id, "Abcdefgh1")).RetCode, 0);
    assert.equal((await fx.describe(id))?.Password, b64("Abcdefgh1"));
    const row = await t.server.internals.db.all("SELECT password_sealed FROM instances WHERE id = ?", [id]);
    assert.ok(!String(row[0]?.password_sealed).includes("Abcdefgh1"), "stored encrypted");
  });

  it("container instances may reset the password while running", async () => {
    const id = await fx.running({ CompShareImageId: "compshareImage-pytorch21" });
    assert.match(id, /^cpod-/);
    assert.equal((await fx.describe(id))?.InstanceType, "Container");
    assert.equal((await reset(id, "Abcdefgh1")).RetCode, 0);
    assert.equal((await fx.describe(id))?.Password, b64("Abcdefgh1"));
  });

  it("names a missing or undecodable password; an unknown id is not found", async () => {
    const { t } = fx;
    const id = await fx.running();
    await fx.stopped(id);
    assert.equal((await t.call("ResetCompShareInstancePassword", { ...Z, UHostId: id })).RetCode, 210);
    const bad = await t.call("ResetCompShareInstancePassword", {
      ...Z,
      UHostId: id,
      Password: "not base64!",
    });
    assert.equal(bad.RetCode, 230);
    assert.match(String(bad.Message), /Params \[Password\].*base64/);
    assert.equal((await reset("uhost-missing1", "Abcdefgh1")).RetCode, 8039);
  });

  it("race: refused while an operation holds the lock; two concurrent resets both apply", async () => {
    const id = await fx.running();
    await fx.stopped(id);
    const start = fx.hold("start");
    assert.equal((await fx.t.call("StartCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await start.reached();
    const busy = await reset(id, "Abcdefgh1");
    assert.equal(busy.RetCode, 8040);
    assert.match(String(busy.Message), /InstanceOperationInProgress/);
    start.release();
    await fx.settle();
    await fx.stopped(id);
    // An instant change takes no lock (the docs' lock covers Start, Stop, Reboot, Terminate,
    // Reinstall and Resize): both calls are accepted and one of the two passwords is stored.
    const answers = await Promise.all([reset(id, "Abcdefgh1"), reset(id, "Zyxwvut98")]);
    assert.deepEqual(
      answers.map((r) => r.RetCode),
      [0, 0],
    );
    assert.ok([b64("Abcdefgh1"), b64("Zyxwvut98")].includes(String((await fx.describe(id))?.Password)));
  });
});
