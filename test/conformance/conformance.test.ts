import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestServer } from "../helpers.js";
import { ROOT, createParams, createRunning, startTestServer } from "../helpers.js";

/**
 * The official SDKs against a running server: ucloud-sdk-python3 (PyPI) and ucloud-sdk-go (Go module
 * proxy), installed by scripts/test.mjs, which passes their paths in OCS_TEST_PYTHON / OCS_TEST_GO.
 * The seed examples are replayed call for call by the driver programs beside this file.
 */
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = join(here, "..", "..", "..", "test", "conformance");
const PY = process.env.OCS_TEST_PYTHON;
const GO = process.env.OCS_TEST_GO;
const CI = process.env.CI === "true";

type Out = { ok: boolean; resp?: Record<string, unknown>; code?: number; message?: string };

let t: TestServer;
before(async () => {
  t = await startTestServer({ OCS_SIM_LATENCY_MS: "0" });
});
after(async () => {
  await t?.close();
});

function env() {
  return { ...process.env, OCS_URL: t.url, OCS_PUBLIC_KEY: ROOT.publicKey, OCS_PRIVATE_KEY: ROOT.privateKey };
}

async function py(scenario: string, args: Record<string, unknown> = {}): Promise<Out> {
  const { stdout } = await run(
    PY as string,
    [join(sourceDir, "python", "run.py"), scenario, JSON.stringify(args)],
    { env: env() },
  );
  return JSON.parse(stdout.trim().split("\n").pop() as string) as Out;
}

async function go(scenario: string, args: Record<string, unknown> = {}): Promise<Out> {
  const { stdout } = await run(GO as string, [scenario, JSON.stringify(args)], { env: env() });
  return JSON.parse(stdout.trim().split("\n").pop() as string) as Out;
}

function skipUnless(tool: string | undefined, name: string): { skip?: string } {
  if (tool) return {};
  if (CI) throw new Error(`${name} toolchain missing in CI (scripts/test.mjs installs it)`);
  return { skip: `${name} SDK not installed (see npm test output)` };
}

async function waitState(id: string, state: string) {
  return t.waitState(id, state, 10_000);
}

describe("official Python SDK (ucloud-sdk-python3)", skipUnless(PY, "Python"), () => {
  it("GetProjectList through client.invoke, and the seeds' ProjectId snippet", async () => {
    const r = await py("invoke", { action: "GetProjectList" });
    assert.equal(r.ok, true);
    assert.equal(r.resp?.ProjectCount, 1);
    const p = await py("project_id");
    assert.match(String(p.resp?.ProjectId), /^org-[a-z0-9]{6}$/);
  });

  it("gateway errors: wrong private key 171, unknown public key 172, unknown Action 161, missing Action 160", async () => {
    assert.equal((await py("invoke", { action: "GetProjectList", private_key: "wrong" })).code, 171);
    assert.equal((await py("invoke", { action: "GetProjectList", public_key: "nobody-here" })).code, 172);
    assert.equal((await py("invoke", { action: "NoSuchAction" })).code, 161);
    assert.equal((await py("invoke", { action: "" })).code, 160);
  });

  it("replays the seeds: Describe (invoke), Stop/Start (ucompshare().invoke), scheduler Delete, Terminate (typed)", async () => {
    const created = await py("typed", {
      method: "create_comp_share_instance",
      params: createParams(),
    });
    assert.equal(created.ok, true, JSON.stringify(created));
    const id = (created.resp?.UHostIds as string[])[0] as string;
    await waitState(id, "Running");

    const list = await py("ucompshare_invoke", {
      action: "DescribeCompShareInstance",
      params: { Region: "cn-wlcb", Limit: 20, Offset: 0 },
    });
    assert.equal(list.resp?.TotalCount, 1);
    const one = await py("ucompshare_invoke", {
      action: "DescribeCompShareInstance",
      params: { Region: "cn-wlcb", UHostIds: [id] },
    });
    assert.equal((one.resp?.UHostSet as Array<{ UHostId: string }>)[0]?.UHostId, id);
    const typed = await py("typed", { method: "describe_comp_share_instance", params: { UHostIds: [id] } });
    assert.equal(typed.ok, true, JSON.stringify(typed));

    const now = Math.floor(t.server.internals.clock.now() / 1000);
    // The typed method requires ProjectId (the SDK model marks it required): the seeds' way to get one.
    const projectId = (await py("project_id")).resp?.ProjectId;
    const sched = await py("typed", {
      method: "update_comp_share_stop_scheduler",
      params: { ProjectId: projectId, UHostId: id, StopTime: now + 3600 },
    });
    assert.equal(sched.ok, true, JSON.stringify(sched));
    const del = await py("ucompshare_invoke", {
      action: "DeleteCompShareStopScheduler",
      params: { Region: "cn-wlcb", UHostId: id },
    });
    assert.deepEqual(del.resp, { Action: "DeleteCompShareStopSchedulerResponse", RetCode: 0, UHostId: id });

    const stop = await py("ucompshare_invoke", {
      action: "StopCompShareInstance",
      params: { Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: id },
    });
    assert.deepEqual(stop.resp, { Action: "StopCompShareInstanceResponse", RetCode: 0, UHostId: id });
    const again = await py("ucompshare_invoke", {
      action: "StopCompShareInstance",
      params: { Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: id },
    });
    assert.ok(again.code === 8040 || again.code === 8041, JSON.stringify(again));
    await waitState(id, "Stopped");
    const start = await py("ucompshare_invoke", {
      action: "StartCompShareInstance",
      params: { Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: id, WithoutGpu: true },
    });
    assert.equal(start.ok, true);
    assert.equal((await waitState(id, "Running")).GPU, 0);
    await py("typed", { method: "stop_comp_share_instance", params: { Zone: "cn-wlcb-01", UHostId: id } });
    await waitState(id, "Stopped");
    const term = await py("typed", {
      method: "terminate_comp_share_instance",
      params: { Zone: "cn-wlcb-01", UHostId: id },
    });
    assert.equal(term.ok, true, JSON.stringify(term));
    assert.equal(term.resp?.UHostId, id);
    assert.equal(await t.describeOne(id), undefined);
  });
});

describe("official Python SDK: catalog actions", skipUnless(PY, "Python"), () => {
  it("typed methods load every catalog answer; CheckCompShareResourceCapacity (in no SDK) through invoke", async () => {
    const zones = await py("typed", {
      method: "describe_comp_share_support_zone",
      params: { Region: "cn-wlcb" },
    });
    assert.equal((zones.resp?.ZoneInfo as Array<{ Zone: string }>)[0]?.Zone, "cn-wlcb-01");
    const price = await py("typed", {
      method: "get_comp_share_instance_price",
      params: {
        Zone: "cn-wlcb-01",
        GpuType: "4090",
        Gpu: "1",
        Cpu: "16",
        Memory: "65536",
        ChargeType: "Dynamic",
      },
    });
    assert.equal(price.ok, true, JSON.stringify(price));
    assert.equal((price.resp?.PriceDetail as Array<{ Instance: number }>)[0]?.Instance !== undefined, true);
    const user = await py("typed", {
      method: "get_comp_share_instance_user_price",
      params: { Zone: "cn-wlcb-01", GpuType: "4090" },
    });
    assert.equal(user.ok, true, JSON.stringify(user));
    const cap = await py("ucompshare_invoke", {
      action: "CheckCompShareResourceCapacity",
      params: {
        Region: "cn-wlcb",
        Zone: "cn-wlcb-01",
        GpuType: "4090",
        MachineType: "G",
        MinimalCpuPlatform: "Amd/Auto",
        CompShareImageId: "compshareImage-ubuntu2204",
        ChargeType: "Postpay",
        Disks: [{ IsBoot: true, Type: "CLOUD_SSD", Size: 50 }],
      },
    });
    assert.equal((cap.resp?.Specs as Array<{ ResourceEnough: boolean }>)[0]?.ResourceEnough, true);
    const inv = await py("ucompshare_invoke", {
      action: "DescribeCompShareGpuInventory",
      params: { Region: "cn-wlcb" },
    });
    assert.equal(typeof inv.resp?.GpuInventoryByZone, "string");
  });
});

describe("official Go SDK (ucloud-sdk-go)", skipUnless(GO, "Go"), () => {
  it("GetProjectList with the form encoder and with the JSON encoder", async () => {
    for (const json of [false, true]) {
      const r = await go("projects", { json });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.match(String((r.resp?.ProjectSet as Array<{ ProjectId: string }>)[0]?.ProjectId), /^org-/);
    }
  });

  it("gateway errors: 171, 172, 161", async () => {
    assert.equal((await go("projects", { private_key: "wrong" })).code, 171);
    assert.equal((await go("projects", { public_key: "nobody-here" })).code, 172);
    assert.equal((await go("generic", { action: "NoSuchAction" })).code, 161);
    assert.equal((await go("generic", { action: "NoSuchAction", json: true })).code, 161);
  });

  it("decodes every catalog answer with the typed models (form and JSON)", async () => {
    for (const json of [false, true]) {
      const r = await go("catalog-typed", { json, zone: "cn-wlcb-01" });
      assert.equal(r.ok, true, JSON.stringify(r));
      const resp = r.resp as Record<string, Record<string, unknown>>;
      assert.ok((resp.types?.AvailableInstanceTypes as unknown[]).length > 0);
      assert.ok((resp.images?.ImageSet as unknown[]).length > 0);
      assert.ok((resp.price?.PriceDetail as unknown[]).length === 1);
      // The documented drift (README): objects, as the docs and the official CLI read them.
      assert.match(String(resp.familiesTypedError), /cannot unmarshal object into .*string/);
    }
  });

  it("replays the seeds and decodes a full Describe with the typed model (form and JSON)", async () => {
    const created = await go("create-typed", { zone: "cn-wlcb-01" });
    assert.equal(created.ok, true, JSON.stringify(created));
    const id = (created.resp?.UHostIds as string[])[0] as string;
    await waitState(id, "Running");
    for (const json of [false, true]) {
      const full = await go("describe-typed", { uhost_id: id, json });
      assert.equal(full.ok, true, JSON.stringify(full));
      const u = (full.resp?.UHostSet as Array<Record<string, unknown>>)[0]!;
      assert.equal(u.UHostId, id);
      assert.equal((u.DiskSet as Array<{ IsBoot: string }>)[0]?.IsBoot, "True");
      const seed = await go("describe-seed", { json, uhost_id: id });
      assert.equal(seed.resp?.TotalCount, 1);
    }
    const now = Math.floor(t.server.internals.clock.now() / 1000);
    assert.equal(
      (await go("stop-scheduler-typed", { uhost_id: id, stop_time: now + 3600, zone: "cn-wlcb-01" })).ok,
      true,
    );
    const del = await go("invoke-uhost", { action: "DeleteCompShareStopScheduler", uhost_id: id });
    assert.deepEqual([del.ok, del.resp?.UHostId], [true, id]);
    const stop = await go("invoke-uhost", {
      action: "StopCompShareInstance",
      uhost_id: id,
      zone: "cn-wlcb-01",
    });
    assert.deepEqual([stop.ok, stop.resp?.UHostId], [true, id]);
    const locked = await go("invoke-uhost", {
      action: "StopCompShareInstance",
      uhost_id: id,
      zone: "cn-wlcb-01",
      json: true,
    });
    assert.ok(locked.code === 8040 || locked.code === 8041, JSON.stringify(locked));
    await waitState(id, "Stopped");
    const start = await go("invoke-uhost", {
      action: "StartCompShareInstance",
      uhost_id: id,
      zone: "cn-wlcb-01",
      json: true,
    });
    assert.equal(start.ok, true, JSON.stringify(start));
    await waitState(id, "Running");
    await go("invoke-uhost", { action: "StopCompShareInstance", uhost_id: id, zone: "cn-wlcb-01" });
    await waitState(id, "Stopped");
    const term = await go("terminate-typed", { uhost_id: id, zone: "cn-wlcb-01" });
    assert.deepEqual([term.ok, term.resp?.UHostId], [true, id]);
  });
});

/** Moves the emulator's clock past every capture in flight and waits for the image to be Available. */
async function imageAvailable(id: string): Promise<void> {
  t.server.internals.clock.advance(3600_000);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const p = await t.call("GetCompShareImageCreateProgress", { Region: "cn-wlcb", CompShareImageId: id });
    if (p.Status === "Available") return;
    if (Date.now() > deadline) throw new Error(`image ${id}: ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("official Python SDK: custom images", skipUnless(PY, "Python"), () => {
  it("typed methods make, follow, list, update, share and delete an image; the receiver creates from it", async () => {
    const created = await py("typed", { method: "create_comp_share_instance", params: createParams() });
    const src = (created.resp?.UHostIds as string[])[0] as string;
    await waitState(src, "Running");
    const made = await py("typed", {
      method: "create_comp_share_custom_image",
      params: {
        Zone: "cn-wlcb-01",
        UHostId: src,
        Name: "py-image",
        Description: "made by the Python SDK",
        Softwares: { Application: ["jupyter"], CUDAVersion: "12.1", Framework: "PyTorch" },
      },
    });
    assert.equal(made.ok, true, JSON.stringify(made));
    const img = String(made.resp?.CompShareImageId);
    const progress = await py("typed", {
      method: "get_comp_share_image_create_progress",
      params: { Zone: "cn-wlcb-01", CompShareImageId: img },
    });
    assert.equal(progress.ok, true, JSON.stringify(progress));
    assert.equal(typeof progress.resp?.TotalDuration, "string");
    await imageAvailable(img);
    const list = await py("typed", {
      method: "describe_comp_share_custom_images",
      params: { Zone: "cn-wlcb-01" },
    });
    assert.equal(list.ok, true, JSON.stringify(list));
    const row = (list.resp?.ImageSet as Array<Record<string, unknown>>).find(
      (i) => i.CompShareImageId === img,
    );
    assert.deepEqual(
      [row?.Status, row?.ImageType, (row?.Softwares as { Applications: string[] }).Applications],
      ["Available", "Custom", ["jupyter"]],
    );
    const upd = await py("typed", {
      method: "update_comp_share_image",
      params: { Zone: "cn-wlcb-01", CompShareImageId: img, Description: "updated", Tags: ["py"] },
    });
    assert.equal(upd.ok, true, JSON.stringify(upd));

    const bob = await t.server.services.accounts.createAccount(`py-bob-${Date.now()}`);
    const share = await py("typed", {
      method: "modify_comp_share_image_share_account",
      params: { CompShareImageId: img, AddAccounts: [bob.account.number, 99_999_999] },
    });
    assert.deepEqual(share.resp?.InvalidAccounts, [99_999_999], JSON.stringify(share));
    const accounts = await py("typed", {
      method: "describe_comp_share_image_share_accounts",
      params: { CompShareImageId: img },
    });
    assert.deepEqual(accounts.resp?.AccountSet, [
      { AccountId: String(bob.account.number), AccountName: bob.account.name },
    ]);
    const keys = { public_key: bob.keyPair.publicKey, private_key: bob.keyPair.privateKey };
    const shared = await py("typed", { method: "describe_comp_share_sharing_images", params: {}, ...keys });
    assert.equal(shared.ok, true, JSON.stringify(shared));
    assert.deepEqual(
      (shared.resp?.ImageSet as Array<{ CompShareImageId: string }>).map((i) => i.CompShareImageId),
      [img],
    );
    const theirs = await py("typed", {
      method: "create_comp_share_instance",
      params: createParams({ CompShareImageId: img }),
      ...keys,
    });
    assert.equal(theirs.ok, true, JSON.stringify(theirs));

    const del = await py("typed", {
      method: "terminate_comp_share_custom_image",
      params: { Zone: "cn-wlcb-01", CompShareImageId: img },
    });
    assert.equal(del.ok, true, JSON.stringify(del));
    const gone = await py("typed", {
      method: "get_comp_share_image_create_progress",
      params: { Zone: "cn-wlcb-01", CompShareImageId: img },
    });
    assert.equal(gone.code, 8070);
  });
});

describe("official Go SDK: custom images", skipUnless(GO, "Go"), () => {
  it("decodes every image answer with the typed models (form and JSON)", async () => {
    const created = await go("create-typed", { zone: "cn-wlcb-01" });
    const src = (created.resp?.UHostIds as string[])[0] as string;
    await waitState(src, "Running");
    const bob = await t.server.services.accounts.createAccount(`go-bob-${Date.now()}`);
    for (const json of [false, true]) {
      const made = await go("image-create-typed", {
        uhost_id: src,
        zone: "cn-wlcb-01",
        json,
        name: `go-image-${json}`,
      });
      assert.equal(made.ok, true, JSON.stringify(made));
      const img = String(made.resp?.CompShareImageId);
      await imageAvailable(img);
      const r = await go("image-typed", {
        image_id: img,
        zone: "cn-wlcb-01",
        json,
        account: bob.account.number,
      });
      assert.equal(r.ok, true, JSON.stringify(r));
      const resp = r.resp as Record<string, Record<string, unknown>>;
      assert.equal(resp.progress?.Process, 100);
      assert.equal(resp.progress?.TotalDuration, "60", "1 s of emulated time per GB of its 60 GB disk");
      const image = (resp.custom?.ImageSet as Array<Record<string, unknown>>)[0];
      assert.deepEqual(
        [image?.Status, image?.ImageType, (image?.Softwares as { Applications: string[] }).Applications],
        ["Available", "Custom", ["jupyter", "vscode"]],
      );
      assert.deepEqual(resp.share?.InvalidAccounts, [1]);
      assert.deepEqual(
        (resp.accounts?.AccountSet as Array<{ AccountId: string }>).map((x) => x.AccountId),
        [String(bob.account.number)],
      );
      const shared = await go("image-shared-typed", {
        json,
        public_key: bob.keyPair.publicKey,
        private_key: bob.keyPair.privateKey,
      });
      assert.equal(shared.ok, true, JSON.stringify(shared));
      assert.ok(
        (shared.resp?.ImageSet as Array<{ CompShareImageId: string }>).some(
          (i) => i.CompShareImageId === img,
        ),
      );
      const del = await go("image-terminate-typed", { image_id: img, zone: "cn-wlcb-01", json });
      assert.equal(del.ok, true, JSON.stringify(del));
    }
  });
});

describe("official SDKs: disks, monitoring, ports and prices", () => {
  /** Waits until the instance holds no lock (a disk step is an operation of its own). */
  async function idle(id: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (
      (await t.server.internals.db.all("SELECT operation FROM instances WHERE id = ?", [id]))[0]
        ?.operation !== null
    ) {
      assert.ok(Date.now() < deadline, "the operation did not finish");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it(
    "Go: the typed models decode every answer (form and JSON); disks move through the typed calls",
    skipUnless(GO, "Go"),
    async () => {
      for (const json of [false, true]) {
        const id = await createRunning(t);
        const cpod = await createRunning(t, { CompShareImageId: "compshareImage-pytorch21" });
        const r = await go("usage-typed", { uhost_id: id, cpod, json, zone: "cn-wlcb-01" });
        assert.equal(r.ok, true, JSON.stringify(r));
        const resp = r.resp as Record<string, Record<string, unknown>>;
        const disk = String(resp.created?.UDiskId);
        assert.match(disk, /^bs-/);
        assert.deepEqual(
          [resp.diskPrice?.Price, resp.diskPrice?.PriceDetail],
          [0.018, { Snapshot: 0, UDisk: 0.018 }],
        );
        assert.deepEqual((resp.softwarePort?.SoftwarePort as unknown[])[0], { Port: 22, Software: "SSH" });
        assert.equal(resp.upgradePrice?.Price, 2.05);
        const refunds = resp.refund?.RefundPriceSet as Array<{
          UHostId: string;
          Code: number;
          ErrMessage: string;
        }>;
        assert.deepEqual(
          refunds.map((x) => [x.UHostId, x.Code]),
          [
            [id, 0],
            ["uhost-nothere", 8039],
          ],
        );
        assert.match(refunds[1]?.ErrMessage ?? "", /not found/, "the Go model's ErrMessage");
        assert.equal(resp.ports?.UHostId, cpod);

        await idle(id);
        await t.call("StopCompShareInstance", { Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: id });
        await waitState(id, "Stopped");
        for (const action of ["resize", "detach", "attach", "detach", "delete"]) {
          const step = await go("disk-typed", { action, uhost_id: id, disk, json, zone: "cn-wlcb-01" });
          assert.equal(step.ok, true, `${action}: ${JSON.stringify(step)}`);
          await idle(id);
        }
        const left = await t.call("DescribeCompshareDisk", {});
        assert.equal(
          (left.DiskSet as Array<{ ResourceId: string }>).some((d) => d.ResourceId === disk),
          false,
        );
      }
    },
  );

  it("Python: typed methods and invoke reach every action", skipUnless(PY, "Python"), async () => {
    const id = await createRunning(t);
    const made = await py("ucompshare_invoke", {
      action: "CreateAndAttachCompshareDisk",
      params: { Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: id, Size: 40, Name: "py-disk" },
    });
    assert.equal(made.ok, true, JSON.stringify(made));
    const listed = await py("ucompshare_invoke", { action: "DescribeCompshareDisk", params: {} });
    assert.ok(
      (listed.resp?.DiskSet as Array<{ ResourceId: string }>).some(
        (d) => d.ResourceId === made.resp?.UDiskId,
      ),
    );
    const sw = await py("typed", { method: "describe_comp_share_software_port", params: {} });
    assert.equal(sw.ok, true, JSON.stringify(sw));
    assert.equal((sw.resp?.SoftwarePort as Array<{ Port: number }>)[0]?.Port, 22);
    const refund = await py("typed", {
      method: "get_comp_share_refund_price",
      params: { Zone: "cn-wlcb-01", UHostIds: [id] },
    });
    assert.equal(refund.ok, true, JSON.stringify(refund));
    const mon = await py("ucompshare_invoke", {
      action: "GetCompShareInstanceMonitor",
      params: { Region: "cn-wlcb", UHostIds: [id] },
    });
    assert.equal(mon.ok, true, JSON.stringify(mon));
    assert.equal((mon.resp?.Data as { List: Array<{ UHostId: string }> }).List[0]?.UHostId, id);
  });
});
