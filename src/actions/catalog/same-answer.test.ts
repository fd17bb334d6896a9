import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestServer } from "../../../test/helpers.js";
import { createParams, startTestServer } from "../../../test/helpers.js";

/**
 * One question, every action that can answer it: Create, the two price actions and the capacity
 * action ask the same spec rules (src/core/catalog/spec-rules.ts), so they refuse the same things
 * with the same message. Before the rules were one module they had drifted apart.
 */
let t: TestServer;
before(async () => {
  t = await startTestServer({}, {}, { http: false });
});
after(async () => {
  await t.close();
});

const Z = { Region: "cn-wlcb", Zone: "cn-wlcb-01" };

/** The same spec as each action spells it. */
function asked(extra: {
  GpuType?: string;
  ChargeType?: string;
  Disks?: unknown[];
  CompShareImageId?: string;
}) {
  const spec = { GpuType: "4090", ...extra };
  return {
    CreateCompShareInstance: createParams({ ...spec } as never),
    GetCompShareInstancePrice: { ...Z, Gpu: 1, Cpu: 16, Memory: 65536, ...spec },
    GetCompShareInstanceUserPrice: { ...Z, GPU: 1, CPU: 16, Memory: 65536, ...spec },
    CheckCompShareResourceCapacity: { ...Z, ...spec },
  };
}

async function answers(extra: Parameters<typeof asked>[0]): Promise<Array<[string, number, string]>> {
  const out: Array<[string, number, string]> = [];
  for (const [action, params] of Object.entries(asked(extra))) {
    const r = await t.call(action, params as never);
    out.push([action, Number(r.RetCode), String(r.Message ?? "")]);
  }
  return out;
}

function sameRefusal(got: Array<[string, number, string]>, re: RegExp): void {
  const [first] = got;
  for (const [action, code, message] of got) {
    assert.equal(code, 230, `${action}: ${code} ${message}`);
    assert.match(message, re, action);
    assert.equal(message, first?.[2], `${action} words it as ${first?.[0]} does`);
  }
}

describe("the same spec question gets the same answer from every action", () => {
  it("a GPU type not sold in the zone", async () => {
    sameRefusal(await answers({ GpuType: "H100" }), /Params \[GpuType\].*H100 is not sold in cn-wlcb-01/);
  });

  it("Spot for a type without spot", async () => {
    sameRefusal(
      await answers({ GpuType: "4090_48G", ChargeType: "Spot" }),
      /Params \[ChargeType\].*Spot is not offered for GPU type 4090_48G/,
    );
  });

  it("a disk type the GPU type does not offer", async () => {
    sameRefusal(
      await answers({ Disks: [{ IsBoot: true, Type: "CLOUD_RSSD", Size: 50 }] }),
      /Params \[Disks\.0\.Type\].*CLOUD_RSSD is not offered for 4090/,
    );
  });

  it("a disk size out of the type's range", async () => {
    sameRefusal(
      await answers({ Disks: [{ IsBoot: true, Type: "CLOUD_SSD", Size: 5000 }] }),
      /Params \[Disks\.0\.Size\].*between 20 and 500/,
    );
  });

  it("an image that does not exist", async () => {
    sameRefusal(
      await answers({ CompShareImageId: "compshareImage-nope" }),
      /Params \[CompShareImageId\].*does not exist/,
    );
  });

  it("a CPU platform the type cannot meet is refused by Create and by capacity alike (was a prefix match)", async () => {
    const create = await t.call("CreateCompShareInstance", createParams({ MinimalCpuPlatform: "Amd/Epyc9" }));
    const capacity = await t.call("CheckCompShareResourceCapacity", {
      ...Z,
      GpuType: "4090",
      MinimalCpuPlatform: "Amd/Epyc9",
    });
    assert.equal(create.RetCode, 230);
    assert.equal(capacity.RetCode, 230);
    assert.match(String(create.Message), /Params \[MinimalCpuPlatform\].*Amd\/Epyc9 is not offered for 4090/);
    assert.equal(capacity.Message, create.Message);
    // What both accept: Auto, the vendor's Auto, the exact platform.
    for (const ok of ["Auto", "Amd/Auto", "Amd/Epyc2"]) {
      const c = await t.call("CheckCompShareResourceCapacity", {
        ...Z,
        GpuType: "4090",
        MinimalCpuPlatform: ok,
      });
      assert.equal(c.RetCode, 0, ok);
    }
    assert.equal(
      (
        await t.call("CheckCompShareResourceCapacity", {
          ...Z,
          GpuType: "4090",
          MinimalCpuPlatform: "Intel/Auto",
        })
      ).RetCode,
      230,
    );
  });

  it("what all of them accept, they all accept", async () => {
    for (const [action, code, message] of await answers({ ChargeType: "Dynamic" }))
      assert.equal(code, 0, `${action}: ${message}`);
  });
});

describe("Describe's paging rule holds on every filter branch", () => {
  it("Offset past the total is 230 whether the filter matched nothing early or late", async () => {
    for (const filter of [
      {},
      { UDiskIdForAttachment: "bs-unknown" },
      { VPCId: "uvnet-foreign" },
      { SubnetId: "subnet-foreign" },
      { UHostIds: ["uhost-unknown"] },
    ]) {
      const first = await t.call("DescribeCompShareInstance", { Region: "cn-wlcb", Offset: 0, ...filter });
      assert.equal(first.RetCode, 0, JSON.stringify(filter));
      const total = Number(first.TotalCount);
      const atEnd = await t.call("DescribeCompShareInstance", {
        Region: "cn-wlcb",
        Offset: total,
        ...filter,
      });
      assert.equal(atEnd.RetCode, 0, `Offset = total is the empty last page: ${JSON.stringify(filter)}`);
      const r = await t.call("DescribeCompShareInstance", {
        Region: "cn-wlcb",
        Offset: total + 5,
        ...filter,
      });
      assert.equal(r.RetCode, 230, JSON.stringify(filter));
      assert.match(
        String(r.Message),
        new RegExp(`Params \\[Offset\\].*${total + 5} is beyond the total of ${total} instances`),
      );
    }
  });
});
