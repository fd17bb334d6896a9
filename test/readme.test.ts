import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACTIONS } from "../src/actions/registry.js";
import { WORKING_COMMANDS } from "./conformance/cli/commands.js";
import { README, tableAfter } from "./readme-tables.js";

describe("README", () => {
  it("its action table lists exactly the Actions of the registry", () => {
    const listed = tableAfter(README, "### Actions").flatMap((cells) =>
      [...(cells[0] ?? "").matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1] as string),
    );
    assert.equal(new Set(listed).size, listed.length, "no Action listed twice");
    assert.deepEqual([...listed].sort(), ACTIONS.map((a) => a.name).sort());
  });

  it("its official-CLI table marks as working exactly the commands the CLI suites prove", () => {
    const rows = tableAfter(README, "### Official CLI commands");
    const working = rows
      .filter((cells) => cells[1] === "yes")
      .map((cells) => (cells[0] ?? "").replace(/^`compshare (.+)`$/, "$1"));
    assert.equal(new Set(working).size, working.length, "no command listed twice");
    assert.deepEqual([...working].sort(), [...WORKING_COMMANDS].sort());
  });
});
