import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ACTIONS } from "../src/actions/registry.js";
import { runOcs } from "../src/cli/ocs.test-support.js";
import { CONFIG_KEYS, loadConfig } from "../src/config.js";
import { ERRORS } from "../src/domain/errors.js";
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

  it("its configuration table lists every key of src/config.ts, each with its real default", () => {
    const rows = tableAfter(README, "## Configuration");
    const keysOf = (cells: string[]) =>
      [...(cells[0] ?? "").matchAll(/`(OCS_[A-Z0-9_]+)`/g)].map((m) => m[1] as string);
    const listed = rows.flatMap(keysOf);
    assert.equal(new Set(listed).size, listed.length, "no key listed twice");
    assert.deepEqual([...listed].sort(), [...CONFIG_KEYS].sort());
    // A default written as a value is the real one when setting it changes nothing.
    const cwd = mkdtempSync(join(tmpdir(), "ocs-readme-"));
    try {
      const defaults = loadConfig({}, cwd);
      let checked = 0;
      for (const cells of rows) {
        const value = /^`([^`]*)`$/.exec(cells[1] ?? "")?.[1];
        if (value === undefined) continue; // "absent: …": no value by default
        const [key] = keysOf(cells);
        assert.deepEqual(
          loadConfig({ [key as string]: value }, cwd),
          defaults,
          `${key}: README says ${value}`,
        );
        checked++;
      }
      assert.ok(checked >= 30, `${checked} defaults checked`);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("its errors table has every row of the error table with its RetCode, and no other", () => {
    const rows = tableAfter(README, "### Errors").map((c) => [c[1] ?? "", c[0] ?? ""]);
    // A negative RetCode in the table is a placeholder: the emulator's fault answers the one injected.
    const expected = Object.entries(ERRORS).map(([name, e]) => [
      name,
      e.retCode < 0 ? "*(any)*" : String(e.retCode),
    ]);
    const byName = (a: string[], b: string[]) => (a[0] as string).localeCompare(b[0] as string);
    assert.deepEqual([...rows].sort(byName), [...expected].sort(byName));
  });

  it("its CLI section lists every ocs command", async () => {
    const help = await runOcs(["--help"]);
    assert.equal(help.code, 0, help.err);
    // `ocs --help` lists every leaf command (`  ocs instance monitor <UHostId>   Shows …`), then examples.
    const list = help.out.slice(help.out.indexOf("\nCommands"), help.out.indexOf("\nExamples"));
    const commands = [...list.matchAll(/^ {2}(ocs(?: [a-z-]+)+)/gm)].map((m) => m[1] as string);
    assert.ok(commands.length > 40, `${commands.length} commands`);
    const section = README.slice(
      README.indexOf("\n## CLI\n"),
      README.indexOf("\n## The official CompShare CLI"),
    );
    // README groups them: `ocs instance list|get|create|start [--without-gpu]|…`, several to a line.
    const groups = [...section.matchAll(/(?:^|\| )(ocs [^|\n]*(?:\|[^|\n]*)*?)(?= \| ocs |\n)/gm)].map(
      (m) => m[1] as string,
    );
    const missing = commands.filter((c) => {
      const words = c.split(" ");
      const last = words.pop() as string;
      const prefix = `${words.join(" ")} `;
      return !groups.some(
        (g) => g.startsWith(prefix) && new RegExp(`(^| |\\|)${last}( |\\||$)`).test(g.slice(prefix.length)),
      );
    });
    assert.deepEqual(missing, []);
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
