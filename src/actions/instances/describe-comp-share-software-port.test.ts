import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InstanceFixture } from "./fixtures.test-support.js";

const fx = new InstanceFixture();

describe("DescribeCompShareSoftwarePort", () => {
  it("the catalog's software → port list, as the SDK models it", async () => {
    const r = await fx.t.call("DescribeCompShareSoftwarePort", {});
    assert.equal(r.RetCode, 0);
    const list = r.SoftwarePort as Array<{ Software: string; Port: number }>;
    assert.deepEqual(list.slice(0, 2), [
      { Software: "SSH", Port: 22 },
      { Software: "JupyterLab", Port: 8888 },
    ]);
    for (const s of list) assert.ok(Number.isInteger(s.Port) && s.Port >= 1 && s.Port <= 65535);
  });
});
