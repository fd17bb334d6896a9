import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture, Z } from "../instances/fixtures.test-support.js";

const fx = new InstanceFixture();
type Obj = Record<string, unknown>;

describe("operator extensions (root key only)", () => {
  it("creates accounts, key pairs and projects that work at once, and lists them", async () => {
    const { t } = fx;
    const name = `lab-${Date.now()}`;
    const made = await t.call("AdminCreateAccount", { Name: name, InstanceQuota: 5 });
    assert.equal(made.RetCode, 0, JSON.stringify(made));
    const keys = { publicKey: String(made.PublicKey), privateKey: String(made.PrivateKey) };
    const projects = await t.call("GetProjectList", {}, keys);
    assert.equal(projects.RetCode, 0);
    assert.equal((projects.ProjectSet as Obj[])[0]?.ProjectId, made.ProjectId);

    const second = await t.call("AdminCreateKeyPair", { AccountId: made.AccountId as string });
    assert.equal(second.RetCode, 0);
    const secondKeys = { publicKey: String(second.PublicKey), privateKey: String(second.PrivateKey) };
    assert.equal((await t.call("GetProjectList", {}, secondKeys)).RetCode, 0);
    const project = await t.call("AdminCreateProject", {
      AccountId: made.AccountId as string,
      ProjectName: "vision",
    });
    assert.equal(project.RetCode, 0);
    assert.equal(((await t.call("GetProjectList", {}, keys)).ProjectSet as Obj[]).length, 2);

    const list = await t.call("AdminDescribeAccounts");
    const mine = (list.AccountSet as Obj[]).find((a) => a.Name === name) as Obj;
    assert.equal(mine.InstanceQuota, 5);
    assert.equal(mine.IsRoot, false);
    assert.deepEqual(
      (mine.KeySet as Obj[]).map((k) => k.PublicKey),
      [keys.publicKey, secondKeys.publicKey],
    );
    assert.deepEqual(
      (mine.ProjectSet as Obj[]).map((p) => [p.ProjectName, p.IsDefault]),
      [
        ["Default", true],
        ["vision", false],
      ],
    );
    assert.ok(!JSON.stringify(list).includes(keys.privateKey), "private keys are never listed");
    assert.ok((list.AccountSet as Obj[]).some((a) => a.IsRoot === true));
  });

  it("refuses bad input with the parameter named, and every non-root key", async () => {
    const { t } = fx;
    const name = `dup-${Date.now()}`;
    assert.equal((await t.call("AdminCreateAccount", { Name: name })).RetCode, 0);
    const dup = await t.call("AdminCreateAccount", { Name: name });
    assert.equal(dup.RetCode, 230);
    assert.match(String(dup.Message), /Params \[Name\] not available: account dup-\d+ already exists/);
    assert.equal((await t.call("AdminCreateAccount", { Name: "has space" })).RetCode, 230);
    assert.equal((await t.call("AdminCreateAccount", {})).RetCode, 210);
    const ghost = await t.call("AdminCreateKeyPair", { AccountId: "acc-nothere" });
    assert.equal(ghost.RetCode, 230);
    assert.match(String(ghost.Message), /AccountId/);
    assert.equal(
      (await t.call("AdminCreateProject", { AccountId: "acc-nothere", ProjectName: "x" })).RetCode,
      230,
    );

    const user = await t.server.services.accounts.createAccount(`user-${Date.now()}`);
    for (const action of [
      "AdminDescribeAccounts",
      "AdminCreateAccount",
      "AdminCreateKeyPair",
      "AdminCreateProject",
      "AdminDescribeHosts",
    ]) {
      const r = await t.call(
        action,
        { Name: "x", AccountId: user.account.id, ProjectName: "x" },
        user.keyPair,
      );
      assert.equal(r.RetCode, 299, action);
    }
  });

  it("maps every GPU to the instance and account holding it, and shows who runs without GPU", async () => {
    const { t } = fx;
    const gpu = await fx.running({ Name: "holder" });
    const noGpu = await fx.running({ Name: "lean" });
    await fx.stopped(noGpu);
    assert.equal(
      (await t.call("StartCompShareInstance", { ...Z, UHostId: noGpu, WithoutGpu: true })).RetCode,
      0,
    );
    await fx.settle();
    const r = await t.call("AdminDescribeHosts", { Zone: "cn-wlcb-01" });
    assert.equal(r.RetCode, 0);
    const host = (r.HostSet as Obj[])[0] as Obj;
    assert.equal(host.HostId, "h1");
    assert.equal(host.GpuCount, 2);
    assert.equal(host.GpusFree, 1);
    const seats = host.GpuSet as Obj[];
    assert.deepEqual(
      seats.map((g) => [g.Index, g.UHostId, g.Name, g.AccountName, g.State]),
      [
        [0, gpu, "holder", "root", "Running"],
        [1, "", "", "", ""],
      ],
    );
    assert.deepEqual(
      (host.ResidentSet as Obj[]).map((x) => [x.UHostId, x.Name, x.WithoutGpu, x.HoldsCompute, x.State]),
      [[noGpu, "lean", true, true, "Running"]],
    );
    assert.equal(host.CpuUsed, 16 + 2);
    assert.deepEqual((await t.call("AdminDescribeHosts", { Zone: "cn-bj2-02" })).HostSet, []);
  });
});
