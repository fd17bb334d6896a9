import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { finishJobs, makeImage } from "../images/fixtures.test-support.js";
import { InstanceFixture, Z } from "./fixtures.test-support.js";

const fx = new InstanceFixture();
type Rule = { Action: string; Variant: string; Allowed: boolean; RetCode: number; Message: string };

async function rules(id: string): Promise<Map<string, Rule>> {
  const r = await fx.t.call("DescribeCompShareInstanceActions", { UHostId: id });
  assert.equal(r.RetCode, 0, JSON.stringify(r));
  return new Map((r.ActionSet as Rule[]).map((x) => [`${x.Action}${x.Variant ? `+${x.Variant}` : ""}`, x]));
}

/** The call itself answers what the rule said. */
async function callAgrees(rule: Rule | undefined, call: () => Promise<Record<string, unknown>>) {
  assert.ok(rule);
  const r = await call();
  assert.equal(r.RetCode, rule.RetCode, `${rule.Action}: ${JSON.stringify(r)}`);
  if (!rule.Allowed) assert.equal(r.Message, rule.Message);
}

describe("DescribeCompShareInstanceActions (extension)", () => {
  it("says what each Action would answer, and the Actions answer the same", async () => {
    const { t } = fx;
    const id = await fx.running();
    let r = await rules(id);
    assert.equal(r.get("StopCompShareInstance")?.Allowed, true);
    assert.equal(r.get("RebootCompShareInstance")?.Allowed, true);
    assert.equal(r.get("TerminateCompShareInstance")?.Allowed, false);
    assert.match(
      String(r.get("TerminateCompShareInstance")?.Message),
      /is \[Running\]; TerminateCompShareInstance is allowed only from \[Stopped, Install Fail\]/,
    );
    await callAgrees(r.get("StartCompShareInstance"), () =>
      t.call("StartCompShareInstance", { ...Z, UHostId: id }),
    );
    // Disks: attach while running, detach only when stopped; ports are for container instances.
    assert.equal(r.get("AttachCompshareDisk")?.Allowed, true);
    assert.equal(r.get("CreateAndAttachCompshareDisk")?.Allowed, true);
    assert.equal(r.get("DetachCompshareDisk")?.RetCode, 8041);
    await callAgrees(r.get("UpdateCompShareInstancePorts"), () =>
      t.call("UpdateCompShareInstancePorts", { ...Z, UHostId: id, HttpPorts: [8080] }),
    );
    await callAgrees(r.get("TerminateCompShareInstance"), () =>
      t.call("TerminateCompShareInstance", { ...Z, UHostId: id }),
    );

    // While an operation holds the lock, everything says so.
    const stop = fx.hold("stop");
    assert.equal((await t.call("StopCompShareInstance", { ...Z, UHostId: id })).RetCode, 0);
    await stop.reached();
    r = await rules(id);
    assert.ok(
      [...r.values()].every((x) => !x.Allowed && x.RetCode === 8040),
      JSON.stringify([...r.values()]),
    );
    stop.release();
    await fx.settle();

    // Stopped, with both of the host's GPUs taken by other instances: Start needs its GPU back, so
    // it is refused (8042) while Start without GPU is allowed.
    await fx.running();
    await fx.running();
    r = await rules(id);
    assert.equal(r.get("StartCompShareInstance")?.RetCode, 8042);
    assert.equal(r.get("StartCompShareInstance+WithoutGpu")?.Allowed, true);
    assert.equal(r.get("TerminateCompShareInstance")?.Allowed, true);
    assert.equal(r.get("ResetCompShareInstancePassword")?.Allowed, true);
    await callAgrees(r.get("StartCompShareInstance"), () =>
      t.call("StartCompShareInstance", { ...Z, UHostId: id }),
    );
  });

  it("while a custom image is made: 8044 for every operation, as the calls answer; instant changes stay allowed", async () => {
    const { t } = fx;
    const id = await fx.running();
    await makeImage(fx, id);
    const r = await rules(id);
    for (const action of [
      "StopCompShareInstance",
      "RebootCompShareInstance",
      "CreateCompShareCustomImage",
      "AttachCompshareDisk",
      "UpdateCompShareInstancePorts",
    ])
      assert.equal(r.get(action)?.RetCode, 8044, `${action}: ${JSON.stringify(r.get(action))}`);
    for (const action of [
      "ModifyCompShareInstanceName",
      "UpdateCompShareStopScheduler",
      "DeleteCompShareStopScheduler",
    ])
      assert.equal(r.get(action)?.Allowed, true, action);
    await callAgrees(r.get("StopCompShareInstance"), () =>
      t.call("StopCompShareInstance", { ...Z, UHostId: id }),
    );
    await callAgrees(r.get("RebootCompShareInstance"), () =>
      t.call("RebootCompShareInstance", { ...Z, UHostId: id }),
    );
    await finishJobs(fx);
    assert.equal((await rules(id)).get("StopCompShareInstance")?.Allowed, true);
  });

  it("spot: stop only with Force, no scheduled stop", async () => {
    const id = await fx.running({ ChargeType: "Spot" });
    const r = await rules(id);
    assert.equal(r.get("StopCompShareInstance")?.RetCode, 8043);
    assert.equal(r.get("StopCompShareInstance+Force")?.Allowed, true);
    assert.equal(r.get("UpdateCompShareStopScheduler")?.RetCode, 8045);
    await callAgrees(r.get("StopCompShareInstance"), () =>
      fx.t.call("StopCompShareInstance", { ...Z, UHostId: id }),
    );
  });

  it("in the recycle bin only Recover; another account's instance is not found", async () => {
    const id = await fx.running();
    await fx.recycled(id);
    const r = await rules(id);
    assert.deepEqual([...r.keys()], ["RecoverCompShareInstance"]);
    assert.equal(r.get("RecoverCompShareInstance")?.Allowed, true);
    const other = await fx.t.server.services.accounts.createAccount(`rules-${Date.now()}`);
    const theirs = await fx.t.call("DescribeCompShareInstanceActions", { UHostId: id }, other.keyPair);
    assert.equal(theirs.RetCode, 8039);
  });
});
