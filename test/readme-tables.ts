import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's README, as the tests that hold it to the code read it. */
export const README = readFileSync(
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
