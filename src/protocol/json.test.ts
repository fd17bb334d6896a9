import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EncodedJsonArray, encodeJson, encodeValue } from "./json.js";

const read = (b: Uint8Array) => Buffer.from(b).toString("utf8");

describe("encodeJson", () => {
  const items = [{ a: 1, name: "深度学习" }, { b: [true, null], s: 'q"\\' }, {}];
  const encoded = new EncodedJsonArray(items.map((x) => encodeValue(x)));

  it("writes exactly what JSON.stringify writes, with encoded arrays spliced in", () => {
    const cases: Array<Record<string, unknown>> = [
      { Action: "X", RetCode: 0, UHostSet: encoded },
      { UHostSet: encoded, TotalCount: 3 },
      { Skipped: undefined, UHostSet: encoded, Fn: () => 1, After: "é" },
      { Only: encoded },
      { Empty: new EncodedJsonArray([]), Two: encoded, Last: { n: 1 } },
      { Plain: [1, 2], Message: "no splice" },
      {},
    ];
    for (const body of cases) {
      const plain = JSON.parse(JSON.stringify(body)) as unknown;
      assert.equal(read(encodeJson(body)), JSON.stringify(plain));
    }
  });

  it("an encoded array serializes as its elements anywhere else", () => {
    assert.equal(encoded.length, 3);
    assert.deepEqual(JSON.parse(JSON.stringify({ x: encoded })), { x: items });
  });
});
