import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../domain/errors.js";
import { decodeParams, parseUrlEncoded } from "./params.js";

/** The tree uses null-prototype objects; compare as plain JSON. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

const FORM = "application/x-www-form-urlencoded";
const JSONCT = "application/json";

function rejects(fn: () => unknown, retCode: number, param: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${String(e)}`);
    assert.equal(e.retCode, retCode);
    assert.match(e.message, new RegExp(`\\[${param.replace(/[.[\]]/g, "\\$&")}`));
    return true;
  });
}

describe("parameter decoding", () => {
  it("expands Name.N and Name.N.Field from a form body", () => {
    const d = decodeParams(
      "",
      Buffer.from("Action=X&UHostIds.0=a&UHostIds.1=b&Disks.0.Size=50&Disks.0.IsBoot=true"),
      FORM,
    );
    assert.deepEqual(plain(d.tree.UHostIds), { 0: "a", 1: "b" });
    assert.deepEqual(plain(d.tree.Disks), { 0: { Size: "50", IsBoot: "true" } });
    assert.equal(d.signParams["Disks.0.Size"], "50");
  });

  it("merges the query string with the body; Go's repeated Action is accepted", () => {
    const d = decodeParams("Action=X", Buffer.from("Action=X&Region=cn-wlcb"), FORM);
    assert.equal(d.tree.Action, "X");
    assert.equal(d.tree.Region, "cn-wlcb");
  });

  it("accepts nested JSON and flat dotted JSON alike", () => {
    const nested = decodeParams(
      "",
      Buffer.from('{"Action":"X","UHostIds":["a","b"],"Disks":[{"Size":50}]}'),
      JSONCT,
    );
    assert.deepEqual(plain(nested.tree.UHostIds), ["a", "b"]);
    const flat = decodeParams(
      "",
      Buffer.from('{"Action":"X","UHostIds.0":"a","Disks.0.Size":50}'),
      `${JSONCT}; charset=utf-8`,
    );
    assert.deepEqual(plain(flat.tree.UHostIds), { 0: "a" });
    assert.deepEqual(plain(flat.tree.Disks), { 0: { Size: 50 } });
  });

  it("refuses duplicate keys: form, query vs body with another value, JSON", () => {
    rejects(() => decodeParams("", Buffer.from("A=1&A=2"), FORM), 230, "A");
    rejects(() => decodeParams("A=1", Buffer.from("A=2"), FORM), 230, "A");
    rejects(() => decodeParams("", Buffer.from('{"A":1,"A":2}'), JSONCT), 230, "A");
    rejects(
      () => decodeParams("", Buffer.from('{"Disks.0.Size":1,"Disks":[{"Size":2}]}'), JSONCT),
      230,
      "Disks",
    );
  });

  it("refuses broken encodings with a message naming the parameter", () => {
    rejects(() => decodeParams("", Buffer.from("Name=%E4%B8"), FORM), 230, "Name");
    rejects(() => decodeParams("", Buffer.from("Name=%zz"), FORM), 230, "Name");
    rejects(() => decodeParams("", Buffer.from([0x41, 0x3d, 0xff, 0xfe]), FORM), 230, "Body");
    rejects(() => decodeParams("", Buffer.from("{nope"), JSONCT), 230, "Body");
    rejects(() => decodeParams("", Buffer.from("[1,2]"), JSONCT), 230, "Body");
    rejects(() => decodeParams("", Buffer.from("x"), "text/xml"), 230, "Content-Type");
    rejects(() => decodeParams("", Buffer.from("A.=1"), FORM), 230, "A.");
    rejects(() => decodeParams("", Buffer.from("__proto__=1"), FORM), 230, "__proto__");
    rejects(() => decodeParams("", Buffer.from("A=1&A.B=2"), FORM), 230, "A.B");
  });

  it("decodes + as space and UTF-8 escapes", () => {
    assert.deepEqual(parseUrlEncoded("Name=%E4%BD%A0%E5%A5%BD+x", "q"), [["Name", "你好 x"]]);
  });

  it("keeps a raw character outside the BMP next to a percent-escape (not two U+FFFD)", () => {
    assert.deepEqual(parseUrlEncoded("Name=😀%20x", "q"), [["Name", "😀 x"]]);
    assert.deepEqual(parseUrlEncoded("Name=a%F0%9F%98%80😀", "q"), [["Name", "a😀😀"]]);
    assert.deepEqual(parseUrlEncoded(Buffer.from("Name=%41😀", "utf8"), "q"), [["Name", "A😀"]]);
  });

  it("stops at the first parameter over the limit, before decoding the rest", () => {
    const limits = { bodyBytes: 1 << 20, params: 3, depth: 8 };
    rejects(() => decodeParams("", Buffer.from("A=1&B=2&C=3&D=4&E=%ZZ"), FORM, limits), 230, "Body");
    assert.throws(() => decodeParams("", Buffer.from("&&&&"), FORM, limits), /more than 3 parameters/);
    // The query string and the body share the limit.
    assert.throws(
      () => decodeParams("A=1&B=2", Buffer.from("C=3&D=4"), FORM, limits),
      /more than 3 parameters/,
    );
    assert.equal(Object.keys(decodeParams("A=1", Buffer.from("B=2&C=3"), FORM, limits).signParams).length, 3);
    // A long raw name is refused before it is decoded (its broken escape is never looked at).
    assert.throws(() => parseUrlEncoded(`${"a".repeat(800)}%ZZ=1`, "q"), /parameter name longer than 256/);
  });

  it("refuses JSON nested past the depth limit by a flat scan, whatever the depth", () => {
    const nest = (n: number) => `{"A":${"[".repeat(n)}${"]".repeat(n)}}`;
    assert.doesNotThrow(() => decodeParams("", Buffer.from(nest(8)), JSONCT));
    for (const n of [9, 100_000, 400_000])
      assert.throws(() => decodeParams("", Buffer.from(nest(n)), JSONCT), /JSON nested deeper than 8 levels/);
    // Brackets inside strings are text, not nesting.
    const text = decodeParams("", Buffer.from(`{"A":"${"[".repeat(50)}"}`), JSONCT);
    assert.equal(text.tree.A, "[".repeat(50));
    // Counted per value at any depth: a wide array is a flood too.
    const limits = { bodyBytes: 1 << 20, params: 4, depth: 8 };
    assert.throws(
      () => decodeParams("", Buffer.from(`{"A":[${"1,".repeat(30)}1]}`), JSONCT, limits),
      /more than 4 parameters/,
    );
    assert.throws(
      () => decodeParams("", Buffer.from('{"A":1,"B":2,"C":3,"D":4,"E":5}'), JSONCT, limits),
      /more than 4 parameters/,
    );
  });
});
