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

  it("disables, enables and deletes keys, disables accounts and sets quotas; reads are not audited", async () => {
    const { t } = fx;
    const made = await t.call("AdminCreateAccount", { Name: `life-${Date.now()}` });
    const keys = { publicKey: String(made.PublicKey), privateKey: String(made.PrivateKey) };
    const key = (Operation: string, TargetPublicKey = keys.publicKey) =>
      t.call("AdminUpdateKeyPair", { TargetPublicKey, Operation });
    assert.equal((await key("Disable")).RetCode, 0);
    assert.equal((await t.call("GetProjectList", {}, keys)).RetCode, 172);
    assert.equal((await key("Enable")).RetCode, 0);
    assert.equal((await t.call("GetProjectList", {}, keys)).RetCode, 0);

    const account = made.AccountId as string;
    assert.equal(
      (await t.call("AdminUpdateAccount", { AccountId: account, GpuQuota: 3, InstanceQuota: 7 })).RetCode,
      0,
    );
    assert.equal((await t.call("AdminUpdateAccount", { AccountId: account, Disabled: true })).RetCode, 0);
    const listed = ((await t.call("AdminDescribeAccounts")).AccountSet as Obj[]).find(
      (a) => a.AccountId === account,
    );
    assert.deepEqual([listed?.GpuQuota, listed?.InstanceQuota, listed?.Disabled], [3, 7, true]);
    assert.equal(((listed?.KeySet as Obj[])[0] as Obj).Origin, "admin");
    assert.equal((await t.call("GetProjectList", {}, keys)).RetCode, 172);
    assert.equal((await t.call("AdminUpdateAccount", { AccountId: account, Disabled: false })).RetCode, 0);
    assert.equal((await t.call("GetProjectList", {}, keys)).RetCode, 0);
    assert.equal((await key("Delete")).RetCode, 0);
    assert.equal((await t.call("GetProjectList", {}, keys)).RetCode, 172);

    // Refusals name the parameter: an unknown key, the last usable root key, the root account.
    const gone = await key("Delete");
    assert.equal(gone.RetCode, 230);
    assert.match(String(gone.Message), /Params \[TargetPublicKey\] not available: key .* not found/);
    const rootKeys = ((await t.call("AdminDescribeAccounts")).AccountSet as Obj[]).find((a) => a.IsRoot)
      ?.KeySet as Obj[];
    assert.equal(rootKeys.length, 1, "the test server's root has its one configured key");
    const last = await key("Disable", String(rootKeys[0]?.PublicKey));
    assert.equal(last.RetCode, 230);
    assert.match(String(last.Message), /last usable root key/);
    const root = ((await t.call("AdminDescribeAccounts")).AccountSet as Obj[]).find((a) => a.IsRoot) as Obj;
    const noRoot = await t.call("AdminUpdateAccount", {
      AccountId: root.AccountId as string,
      Disabled: true,
    });
    assert.equal(noRoot.RetCode, 230);
    assert.match(String(noRoot.Message), /root account cannot be disabled/);
    assert.equal((await key("Frobnicate")).RetCode, 230);

    const audit = await t.call("DescribeAuditLog", { Limit: 100 });
    const actions = new Set((audit.AuditSet as Obj[]).map((e) => e.AuditAction));
    assert.ok(actions.has("AdminUpdateAccount"), JSON.stringify([...actions]));
    assert.ok(!actions.has("AdminDescribeAccounts"));
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
