import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIONS } from "../src/actions/registry.js";
import { README, tableAfter } from "./readme-tables.js";

describe("README", () => {
  it("its action table lists exactly the Actions of the registry", () => {
    const listed = tableAfter(README, "### Actions").flatMap((cells) =>
      [...(cells[0] ?? "").matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1] as string),
    );
    assert.equal(new Set(listed).size, listed.length, "no Action listed twice");
    assert.deepEqual([...listed].sort(), ACTIONS.map((a) => a.name).sort());
  });
});
