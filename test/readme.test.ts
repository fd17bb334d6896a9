import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ACTIONS } from "../src/actions/registry.js";

const README = readFileSync(
  join(resolve(dirname(fileURLToPath(import.meta.url)), "../.."), "README.md"),
  "utf8",
);

/** The rows of the first table after a heading, as arrays of cells. */
export function tableAfter(markdown: string, heading: string): string[][] {
  const at = markdown.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `README has a "${heading}" section`);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of markdown.slice(at + heading.length + 2).split("\n")) {
    if (line.startsWith("|")) {
      inTable = true;
      rows.push(
        line
          .slice(1, -1)
          .split("|")
          .map((c) => c.trim()),
      );
    } else if (inTable) break;
    else if (line.startsWith("#")) break;
  }
  return rows.slice(2);
}

describe("README", () => {
  it("its action table lists exactly the Actions of the registry", () => {
    const listed = tableAfter(README, "### Actions").flatMap((cells) =>
      [...(cells[0] ?? "").matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1] as string),
    );
    assert.equal(new Set(listed).size, listed.length, "no Action listed twice");
    assert.deepEqual([...listed].sort(), ACTIONS.map((a) => a.name).sort());
  });
});
