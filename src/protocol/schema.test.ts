import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../domain/errors.js";
import { coerce, f } from "./schema.js";

const schema = {
  UHostId: f.str({ required: true }),
  Limit: f.int({ min: 1, max: 100 }),
  Force: f.bool(),
  Ids: f.arr(f.str(), { maxItems: 2 }),
  Disks: f.arr(f.obj({ IsBoot: f.bool({ required: true }), Size: f.int({ required: true }) })),
};

function code(fn: () => unknown): [number, string] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return [e.retCode, e.message];
    throw e;
  }
  throw new Error("did not throw");
}

describe("schema coercion", () => {
  it("coerces form strings and JSON values alike", () => {
    const fromForm = coerce(schema, {
      UHostId: "u",
      Limit: "20",
      Force: "true",
      Ids: { 0: "a", 1: "b" },
      Disks: { 0: { IsBoot: "True", Size: "50" } },
    });
    const fromJson = coerce(schema, {
      UHostId: "u",
      Limit: 20,
      Force: true,
      Ids: ["a", "b"],
      Disks: [{ IsBoot: true, Size: 50 }],
    });
    assert.deepEqual(fromForm, fromJson);
    assert.deepEqual(fromJson.Disks, [{ IsBoot: true, Size: 50 }]);
  });

  it("names the parameter in every error", () => {
    assert.deepEqual(
      code(() => coerce(schema, {})),
      [210, "Missing params [UHostId]"],
    );
    assert.match(
      code(() => coerce(schema, { UHostId: "u", Limit: "x" }))[1],
      /Params \[Limit\] not available: must be an integer/,
    );
    assert.match(code(() => coerce(schema, { UHostId: "u", Limit: "101" }))[1], /\[Limit\].*at most 100/);
    assert.match(code(() => coerce(schema, { UHostId: "u", Force: "yes" }))[1], /\[Force\].*true or false/);
    assert.match(
      code(() => coerce(schema, { UHostId: "u", Ids: { 0: "a", 2: "b" } }))[1],
      /\[Ids\.1\].*no gaps/,
    );
    assert.match(code(() => coerce(schema, { UHostId: "u", Ids: ["a", "b", "c"] }))[1], /\[Ids\].*at most 2/);
    assert.match(
      code(() => coerce(schema, { UHostId: "u", Disks: [{ IsBoot: true }] }))[1],
      /Missing params \[Disks\.0\.Size\]/,
    );
    assert.match(code(() => coerce(schema, { UHostId: "u", Bogus: "1" }))[1], /\[Bogus\].*unknown parameter/);
  });

  it("lenient: unknown parameters (at any depth) are collected, known ones checked as strictly", () => {
    const unknown: string[] = [];
    const p = coerce(
      schema,
      { UHostId: "u", MaxCount: "1", Disks: [{ IsBoot: "true", Size: "50", Extra: "x" }] },
      { unknown },
    );
    assert.equal(p.UHostId, "u");
    assert.deepEqual(unknown, ["MaxCount", "Disks.0.Extra"]);
    assert.match(
      code(() => coerce(schema, { UHostId: "u", Limit: "101", Bogus: "1" }, { unknown: [] }))[1],
      /\[Limit\]/,
    );
    assert.match(code(() => coerce(schema, { UHostId: { a: "b" } }))[1], /\[UHostId\].*must be a string/);
  });
});
