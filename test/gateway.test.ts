import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { computeSignature } from "../src/protocol/signature.js";
import type { TestServer } from "./helpers.js";
import { ROOT, createParams, startTestServer } from "./helpers.js";

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(async () => {
  await t.close();
});

async function raw(
  body: string | Buffer,
  contentType = "application/x-www-form-urlencoded",
  query = "",
  method = "POST",
) {
  const res = await fetch(`${t.url}/${query ? `?${query}` : ""}`, {
    method,
    headers: { "Content-Type": contentType },
    body: method === "GET" ? undefined : body,
  });
  return {
    status: res.status,
    uuid: res.headers.get("x-ucloud-request-uuid"),
    json: (await res.json()) as Record<string, unknown>,
  };
}

function signedQuery(params: Record<string, string>, privateKey = ROOT.privateKey): string {
  const all = { ...params, PublicKey: params.PublicKey ?? ROOT.publicKey };
  return new URLSearchParams({ ...all, Signature: computeSignature(all, privateKey) }).toString();
}

describe("gateway", () => {
  it("GET with a signed query string works, with the request UUID header", async () => {
    const r = await raw("", "", signedQuery({ Action: "GetProjectList" }), "GET");
    assert.equal(r.status, 200);
    assert.match(r.uuid ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(r.json.Action, "GetProjectListResponse");
    assert.equal(r.json.RetCode, 0);
    assert.equal(r.json.ProjectCount, 1);
    const p = (r.json.ProjectSet as Array<Record<string, unknown>>)[0]!;
    assert.match(String(p.ProjectId), /^org-[a-z0-9]{6}$/);
    assert.equal(p.IsDefault, true);
  });

  it("JSON body signed like the Go JSON encoder verifies", async () => {
    const body = {
      Action: "DescribeCompShareInstance",
      Region: "cn-wlcb",
      UHostIds: ["uhost-none"],
      Limit: 20,
      PublicKey: ROOT.publicKey,
    };
    const signed = { ...body, Signature: computeSignature(body, ROOT.privateKey) };
    const r = await raw(JSON.stringify(signed), "application/json", "Action=DescribeCompShareInstance");
    assert.equal(r.json.RetCode, 0);
    assert.equal(r.json.TotalCount, 0);
    assert.deepEqual(r.json.UHostSet, []);
  });

  it("gateway RetCodes: 160, 161, 170, 171, 172, 292", async () => {
    assert.deepEqual((await raw("")).json, { Action: "Response", RetCode: 160, Message: "Missing Action" });
    const r161 = await raw(signedQuery({ Action: "NoSuchAction" }));
    assert.equal(r161.json.RetCode, 161);
    assert.equal(r161.json.Action, "NoSuchActionResponse");
    assert.match(String(r161.json.Message), /Action \[NoSuchAction\] not found/);
    assert.equal((await raw("Action=GetProjectList")).json.RetCode, 170);
    assert.equal((await raw(`Action=GetProjectList&PublicKey=${ROOT.publicKey}`)).json.RetCode, 170);
    assert.equal((await raw(signedQuery({ Action: "GetProjectList" }, "wrong"))).json.RetCode, 171);
    assert.equal(
      (await raw(signedQuery({ Action: "GetProjectList", PublicKey: "nobody-at-all" }))).json.RetCode,
      172,
    );
    const r292 = await raw(signedQuery({ Action: "GetProjectList", ProjectId: "org-nope00" }));
    assert.equal(r292.json.RetCode, 292);
    assert.match(String(r292.json.Message), /Project \[org-nope00\] not exists/);
  });

  it("a project of another account is 292", async () => {
    const other = await t.server.services.accounts.createAccount("other-account");
    const r = await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", ProjectId: other.project.id });
    assert.equal(r.RetCode, 292);
    const own = await t.call(
      "DescribeCompShareInstance",
      { Region: "cn-wlcb", ProjectId: other.project.id },
      other.keyPair,
    );
    assert.equal(own.RetCode, 0);
  });

  it("bad input: 230/210 naming the parameter, never a 5xx", async () => {
    const cases: Array<[string | Buffer, string, RegExp, number]> = [
      [
        Buffer.alloc(2 * 1024 * 1024, 0x41),
        "application/x-www-form-urlencoded",
        /\[Body\].*larger than/,
        230,
      ],
      ["{not json", "application/json", /\[Body\].*invalid JSON/, 230],
      [Buffer.from([0x41, 0x3d, 0xc3, 0x28]), "application/x-www-form-urlencoded", /\[Body\].*UTF-8/, 230],
      [
        "Action=GetProjectList&Action=GetRegion",
        "application/x-www-form-urlencoded",
        /\[Action\].*more than once/,
        230,
      ],
      ["<xml/>", "application/xml", /\[Content-Type\]/, 230],
    ];
    for (const [body, ct, re, code] of cases) {
      const r = await raw(body, ct);
      assert.equal(r.status, 200);
      assert.equal(r.json.RetCode, code, String(r.json.Message));
      assert.match(String(r.json.Message), re);
    }
    const wrongType = await raw(
      signedQuery({ Action: "DescribeCompShareInstance", Region: "cn-wlcb", Limit: "ten" }),
    );
    assert.match(String(wrongType.json.Message), /Params \[Limit\] not available: must be an integer/);
    // Like the real gateway, an unknown parameter is accepted and ignored; a known one stays strict.
    const unknown = await raw(
      signedQuery({ Action: "DescribeCompShareInstance", Region: "cn-wlcb", Bogus: "1" }),
    );
    assert.equal(unknown.json.RetCode, 0);
    const both = await raw(
      signedQuery({ Action: "DescribeCompShareInstance", Region: "cn-wlcb", Bogus: "1", Limit: "ten" }),
    );
    assert.match(String(both.json.Message), /Params \[Limit\] not available: must be an integer/);
    const region = await raw(signedQuery({ Action: "DescribeCompShareInstance", Region: "mars-1" }));
    assert.match(String(region.json.Message), /Params \[Region\] not available: unknown region mars-1/);
    const missing = await raw(
      signedQuery({ Action: "StopCompShareInstance", Region: "cn-wlcb", Zone: "cn-wlcb-01" }),
    );
    assert.deepEqual([missing.json.RetCode, missing.json.Message], [210, "Missing params [UHostId]"]);
    const noRegion = await raw(
      signedQuery({ Action: "StopCompShareInstance", Zone: "cn-wlcb-01", UHostId: "x" }),
    );
    assert.deepEqual([noRegion.json.RetCode, noRegion.json.Message], [210, "Missing params [Region]"]);
    const put = await raw("", "", "", "PUT");
    assert.equal(put.json.RetCode, 230);
  });

  it("OCS_STRICT_PARAMS=true refuses unknown parameters (230 naming them); /metrics counts the ignored ones", async () => {
    const m = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(m, /ocs_ignored_params_total\{action="DescribeCompShareInstance",param="Bogus"\} [1-9]/);
    const strict = await startTestServer({ OCS_STRICT_PARAMS: "true" }, {}, { http: false });
    try {
      const r = await strict.call("DescribeCompShareInstance", { Region: "cn-wlcb", Bogus: "1" });
      assert.equal(r.RetCode, 230);
      assert.match(String(r.Message), /Params \[Bogus\] not available: unknown parameter/);
      const nested = await strict.call(
        "CreateCompShareInstance",
        createParams({ Disks: [{ IsBoot: true, Type: "CLOUD_SSD", Size: 50, Odd: 1 }] }),
      );
      assert.match(String(nested.Message), /Params \[Disks\.0\.Odd\] not available: unknown parameter/);
    } finally {
      await strict.close();
    }
  });

  it("serves /healthz and Prometheus /metrics", async () => {
    const h = await fetch(`${t.url}/healthz`);
    assert.deepEqual(await h.json(), { status: "ok", driver: "sim" });
    const m = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(m, /ocs_requests_total\{action="GetProjectList",retcode="0"\} \d+/);
    assert.match(m, /ocs_request_duration_seconds_bucket\{action="GetProjectList",le="\+Inf"\} \d+/);
    assert.match(m, /ocs_requests_total\{action="unknown",retcode="161"\}/);
  });

  it("GetRegion and DescribeCompShareSupportZone answer from the catalog, cn-wlcb-01 first and default", async () => {
    const r = await t.call("GetRegion");
    const regions = r.Regions as Array<Record<string, unknown>>;
    assert.equal(regions[0]?.Region, "cn-wlcb");
    assert.equal(regions[0]?.Zone, "cn-wlcb-01");
    assert.equal(regions[0]?.IsDefault, true);
    assert.ok(regions.some((x) => x.Zone === "us-den-01"));
    const z = await t.call("DescribeCompShareSupportZone", { Region: "cn-bj2" });
    assert.deepEqual(
      (z.ZoneInfo as Array<Record<string, unknown>>).map((x) => x.Zone),
      ["cn-bj2-02"],
    );
  });
});
