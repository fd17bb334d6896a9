import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../test/helpers.js";
import { ROOT, startTestServer } from "../../test/helpers.js";
import { ACTIONS } from "../actions/registry.js";
import { CompShareClient, CompShareError, DEFAULT_BASE_URL, signedForm } from "./index.js";

/** A local server that misbehaves on purpose: answers come from a script, one per request. */
async function misbehaving(script: Array<(res: import("node:http").ServerResponse) => void>) {
  const seen: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += String(d);
    });
    req.on("end", () => {
      seen.push(new URLSearchParams(body));
      const step = script[Math.min(seen.length - 1, script.length - 1)];
      step?.(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const status = (code: number) => (res: import("node:http").ServerResponse) => {
  res.writeHead(code);
  res.end("busy");
};
const envelope = (body: Record<string, unknown>) => (res: import("node:http").ServerResponse) => {
  res.writeHead(200, { "Content-Type": "application/json", "X-UCLOUD-REQUEST-UUID": "req-1" });
  res.end(JSON.stringify(body));
};

function client(url: string, extra: Partial<ConstructorParameters<typeof CompShareClient>[0]> = {}) {
  const delays: number[] = [];
  const c = new CompShareClient({
    baseUrl: url,
    publicKey: ROOT.publicKey,
    privateKey: ROOT.privateKey,
    region: "cn-wlcb",
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...extra,
  });
  return { c, delays };
}

describe("SDK: encoding and signing", () => {
  it("has a typed method for every Action the server implements", () => {
    const c = new CompShareClient({ publicKey: "p", privateKey: "k", region: "cn-wlcb" });
    assert.equal(c.baseUrl, DEFAULT_BASE_URL);
    for (const { name } of ACTIONS) {
      const method = (c as unknown as Record<string, unknown>)[name.charAt(0).toLowerCase() + name.slice(1)];
      assert.equal(typeof method, "function", name);
    }
    // Promise and serialisation probes are not Actions: a client can be awaited and logged.
    assert.equal((c as unknown as Record<string, unknown>).then, undefined);
    assert.equal((c as unknown as Record<string, unknown>).toJSON, undefined);
  });

  it("signs as the official SDKs (reference §1.3 vector)", () => {
    const form = signedForm(
      { Action: "DescribeUHostInstance", Region: "cn-bj2", Limit: 10 },
      "ucloudsomeone@example.com1296235120854146120",
      "46f09bb9fab4f12dfc160dae12273d5332b5debe",
    );
    assert.equal(form.get("Signature"), "cba5cf5ec4d4233d206b1b54951e3787350a642f");
  });

  it("flattens arrays and objects as Name.N.Field and fills Region/Zone/ProjectId", async () => {
    const s = await misbehaving([envelope({ Action: "XResponse", RetCode: 0 })]);
    try {
      const { c } = client(s.url, { zone: "cn-wlcb-01", projectId: "org-abc" });
      await c.invoke("X", { UHostIds: ["a", "b"], Disks: [{ IsBoot: true, Size: 50 }], Force: false });
      const p = s.seen[0]!;
      assert.deepEqual(
        [
          p.get("UHostIds.1"),
          p.get("Disks.0.IsBoot"),
          p.get("Disks.0.Size"),
          p.get("Force"),
          p.get("Region"),
          p.get("Zone"),
          p.get("ProjectId"),
        ],
        ["b", "true", "50", "false", "cn-wlcb", "cn-wlcb-01", "org-abc"],
      );
    } finally {
      await s.close();
    }
  });
});

describe("SDK: retries and timeouts (Go SDK rules)", () => {
  it("retries HTTP 503 with 4^n × rand(100–199) ms backoff, up to maxRetries", async () => {
    const s = await misbehaving([
      status(503),
      status(502),
      envelope({ Action: "GetRegionResponse", RetCode: 0, Regions: [] }),
    ]);
    try {
      const { c, delays } = client(s.url, { maxRetries: 2 });
      const r = await c.getRegion();
      assert.equal(r.RetCode, 0);
      assert.equal(s.seen.length, 3);
      assert.ok(delays[0]! >= 100 && delays[0]! < 200, String(delays));
      assert.ok(delays[1]! >= 400 && delays[1]! < 800, String(delays));
    } finally {
      await s.close();
    }
  });

  it("does not retry by default (maxRetries 0), nor RetCodes below 2000", async () => {
    const s = await misbehaving([status(503)]);
    try {
      const { c } = client(s.url);
      await assert.rejects(
        c.getRegion(),
        (e: unknown) => e instanceof CompShareError && e.httpStatus === 503 && e.retryable,
      );
      assert.equal(s.seen.length, 1);
    } finally {
      await s.close();
    }
    const v = await misbehaving([
      envelope({ Action: "GetRegionResponse", RetCode: 230, Message: "Params [X] not available" }),
    ]);
    try {
      const { c } = client(v.url, { maxRetries: 3 });
      await assert.rejects(
        c.getRegion(),
        (e: unknown) =>
          e instanceof CompShareError && e.retCode === 230 && !e.retryable && e.requestId === "req-1",
      );
      assert.equal(v.seen.length, 1);
    } finally {
      await v.close();
    }
  });

  it("retries RetCode ≥ 2000, but never a Create unless asked", async () => {
    const s = await misbehaving([
      envelope({ Action: "R", RetCode: 2001, Message: "busy" }),
      envelope({ Action: "R", RetCode: 0 }),
    ]);
    try {
      const { c } = client(s.url, { maxRetries: 3 });
      await c.stopCompShareInstance({ UHostId: "x" });
      assert.equal(s.seen.length, 2);
    } finally {
      await s.close();
    }
    const cr = await misbehaving([
      envelope({ Action: "R", RetCode: 226604, Message: "sold out" }),
      envelope({ Action: "R", RetCode: 0, UHostIds: ["u"] }),
    ]);
    try {
      const { c } = client(cr.url, { maxRetries: 3 });
      await assert.rejects(
        c.invoke("CreateCompShareInstance", {}),
        (e: unknown) => e instanceof CompShareError && e.retCode === 226604,
      );
      assert.equal(cr.seen.length, 1);
      const r = await c.invoke("CreateCompShareInstance", {}, { retryCreate: true });
      assert.equal(r.RetCode, 0);
    } finally {
      await cr.close();
    }
  });

  it("times out a hanging call, and reports a broken body", async () => {
    const s = await misbehaving([() => {}]);
    try {
      const { c } = client(s.url, { timeoutMs: 150 });
      await assert.rejects(
        c.getRegion(),
        (e: unknown) => e instanceof CompShareError && /timed out after 150 ms/.test(e.message),
      );
    } finally {
      s.close();
    }
    const b = await misbehaving([(res) => res.end("<html>")]);
    try {
      const { c } = client(b.url);
      await assert.rejects(c.getRegion(), /invalid JSON response/);
    } finally {
      await b.close();
    }
  });
});

describe("SDK: every typed method against the real server", () => {
  let t: TestServer;
  let c: CompShareClient;
  before(async () => {
    t = await startTestServer();
    c = new CompShareClient({
      baseUrl: t.url,
      publicKey: ROOT.publicKey,
      privateKey: ROOT.privateKey,
      region: "cn-wlcb",
      zone: "cn-wlcb-01",
    });
  });
  after(async () => {
    await t.close();
  });

  it("round-trips the whole surface", async () => {
    const projects = await c.getProjectList();
    assert.equal(projects.ProjectSet[0]?.IsDefault, true);
    assert.ok((await c.getRegion()).Regions.length > 0);
    assert.equal((await c.describeCompShareSupportZone()).ZoneInfo[0]?.Zone, "cn-wlcb-01");
    assert.ok((await c.describeAvailableCompShareInstanceTypes()).AvailableInstanceTypes.length > 0);
    assert.ok((await c.checkCompShareResourceCapacity({ GpuType: "4090" })).Specs.length > 0);
    assert.equal(typeof (await c.describeCompShareGpuInventory()).GpuInventoryByZone, "string");
    assert.ok((await c.describeCompShareImages()).ImageSet.length > 0);
    assert.equal((await c.describeCompShareMachineTypeFamilies()).MachineTypes[0]?.Name, "4090");
    assert.ok((await c.getCompShareInstancePrice({ GpuType: "4090" })).PriceDetails.length > 0);
    assert.ok(
      (await c.getCompShareInstanceUserPrice({ GpuType: "4090", ChargeType: "Postpay" })).PriceDetail
        .length === 1,
    );

    const created = await c.createCompShareInstance({
      GpuType: "4090",
      GPU: 1,
      CPU: 16,
      Memory: 65536,
      CompShareImageId: "compshareImage-ubuntu2204",
      ChargeType: "Postpay",
      Disks: [{ IsBoot: true, Type: "CLOUD_SSD", Size: 50 }],
    });
    const id = created.UHostIds[0] as string;
    const seen: string[] = [];
    const running = await c.waitForState(id, "Running", { intervalMs: 10, onProgress: (s) => seen.push(s) });
    assert.equal(running.GPU, 1);
    assert.equal(seen.at(-1), "Running");
    assert.equal((await c.describeCompShareInstance({ UHostIds: [id] })).TotalCount, 1);
    await c.modifyCompShareInstanceName({ UHostId: id, Name: "sdk" });
    await c.rebootCompShareInstance({ UHostId: id });
    await c.waitForState(id, "Running", { intervalMs: 10 });
    const now = (await c.emulatorStatus()).Now as number;
    await c.updateCompShareStopScheduler({ UHostId: id, StopTime: now + 3600 });
    await c.deleteCompShareStopScheduler({ UHostId: id });
    await c.stopCompShareInstance({ UHostId: id });
    await c.waitForState(id, "Stopped", { intervalMs: 10 });
    await c.resetCompShareInstancePassword({
      UHostId: id,
      Password: Buffer.from("Abcdefgh1").toString("base64"),
    });
    await c.resizeCompShareInstance({ UHostId: id, Gpu: 2, Cpu: 32, Memory: 131072 });
    await c.waitForState(id, "Stopped", { intervalMs: 10 });
    await c.reinstallCompShareInstance({ UHostId: id, CompShareImageId: "compshareImage-cuda124" });
    await c.waitForState(id, "Stopped", { intervalMs: 10 });
    await c.startCompShareInstance({ UHostId: id, WithoutGpu: true });
    assert.equal((await c.waitForState(id, "Running", { intervalMs: 10 })).GPU, 0);
    await c.stopCompShareInstance({ UHostId: id });
    await c.waitForState(id, "Stopped", { intervalMs: 10 });
    const term = await c.terminateCompShareInstance({ UHostId: id });
    assert.equal(term.InRecycle, "Yes");
    assert.equal((await c.describeCompShareRecycleInstance()).TotalCount, 1);
    await c.recoverCompShareInstance({ UHostId: id });
    await c.waitForState(id, "Stopped", { intervalMs: 10 });

    const img = (
      await c.createCompShareCustomImage({
        UHostId: id,
        Name: "sdk-image",
        Softwares: { Application: ["jupyter"], CUDAVersion: "12.1" },
      })
    ).CompShareImageId;
    const percents: number[] = [];
    const waited = c.waitForImage(img, { intervalMs: 10, onProgress: (p) => percents.push(p) });
    await c.emulatorAdvanceClock({ Seconds: 3600 });
    await waited;
    assert.equal(percents.at(-1), 100);
    const mine = await c.describeCompShareCustomImages({ CompShareImageId: img });
    assert.deepEqual(
      [mine.ImageSet[0]?.Status, mine.ImageSet[0]?.Softwares.Applications],
      ["Available", ["jupyter"]],
    );
    assert.equal((await c.getCompShareImageCreateProgress({ CompShareImageId: img })).Process, 100);
    await c.updateCompShareImage({ CompShareImageId: img, Description: "from the SDK" });
    const bob = await t.server.services.accounts.createAccount(`sdk-bob-${Date.now()}`);
    const shared = await c.modifyCompShareImageShareAccount({
      CompShareImageId: img,
      AddAccounts: [bob.account.number],
    });
    assert.deepEqual(shared.InvalidAccounts, []);
    assert.equal(
      (await c.describeCompShareImageShareAccounts({ CompShareImageId: img })).AccountSet[0]?.AccountId,
      String(bob.account.number),
    );
    assert.equal(
      (await c.describeCompShareSharingImages()).TotalCount,
      0,
      "root's own are not shared with it",
    );
    await c.terminateCompShareCustomImage({ CompShareImageId: img });
    await c.emulatorInjectFault({ Target: "Driver", Operation: "image", Message: "disk on fire", Count: 3 });
    const broken = (await c.createCompShareCustomImage({ UHostId: id, Name: "sdk-broken" })).CompShareImageId;
    await assert.rejects(c.waitForImage(broken, { intervalMs: 10 }), /failed: disk on fire/);

    await c.emulatorSetLatency({ Milliseconds: 0 });
    await c.emulatorInjectFault({ Target: "Driver", Operation: "start", Message: "no power", Count: 3 });
    await c.startCompShareInstance({ UHostId: id });
    await assert.rejects(c.waitForState(id, "Running", { intervalMs: 10 }), /settled in Stopped.*no power/);
    await c.emulatorClearFaults();
    await c.emulatorAdvanceClock({ Seconds: 1 });
    await c.emulatorReset();
    await assert.rejects(
      c.waitForState(id, "Running", { intervalMs: 10 }),
      (e: unknown) => e instanceof CompShareError && e.retCode === 8039,
    );
  });
});
