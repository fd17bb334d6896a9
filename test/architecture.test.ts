import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The repository root (this file runs from dist/test/). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = join(ROOT, "src");

/**
 * Layers of src/ (ARCHITECTURE.md): a module may import its own layer and the layers listed
 * for it, nothing else. Imports point down: api → actions → core → store, worker → core,
 * drivers and store at the bottom beside the domain types and the one error table.
 */
const LAYERS: Record<string, string[]> = {
  domain: [],
  base: [],
  protocol: ["domain"],
  store: ["domain"],
  drivers: ["domain", "base"],
  core: ["domain", "base", "store", "drivers"],
  worker: ["domain", "base", "core", "drivers"],
  actions: ["domain", "base", "core", "protocol"],
  api: ["domain", "base", "core", "protocol", "actions"],
  sdk: ["domain", "protocol", "actions"],
  cli: ["domain", "base", "core", "protocol", "sdk", "root"],
  root: ["domain", "base", "protocol", "store", "drivers", "core", "worker", "actions", "api"],
};

/** Imports allowed only as types (erased at compile time): the SDK carries no server code. */
const TYPE_ONLY: Array<[string, string]> = [
  ["sdk", "actions"],
  ["core", "drivers"],
];

/** Core sees drivers only through the interface. */
const CORE_DRIVER_FILES = new Set(["drivers/driver.ts"]);

function layerOf(rel: string): string {
  if (rel === "log.ts" || rel === "config.ts") return "base";
  if (rel === "server.ts") return "root";
  const top = rel.split("/")[0] as string;
  if (!(top in LAYERS))
    throw new Error(`${rel}: no layer for folder ${top}/ (add it to ARCHITECTURE.md and here)`);
  return top;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

/**
 * Tests and their support modules (`*.test-support.ts`: shared fixtures that the runner must not
 * run as a test file) are not part of the layers: they may reach test/helpers.ts and any layer.
 */
const isTest = (p: string) => p.endsWith(".test.ts") || p.endsWith(".test-support.ts");

interface Import {
  spec: string;
  typeOnly: boolean;
  line: number;
}

/** Every import and re-export of a file, with whether it is erased (type-only). */
function importsOf(file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Import[] = [];
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : [];
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly || (c.name === undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
      out.push({ spec: n.moduleSpecifier.text, typeOnly, line: line(n) });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      out.push({ spec: n.moduleSpecifier.text, typeOnly: n.isTypeOnly, line: line(n) });
    } else if (
      ts.isCallExpression(n) &&
      n.expression.kind === ts.SyntaxKind.ImportKeyword &&
      n.arguments[0] &&
      ts.isStringLiteral(n.arguments[0])
    ) {
      out.push({ spec: n.arguments[0].text, typeOnly: false, line: line(n) });
    } else if (
      ts.isImportTypeNode(n) &&
      ts.isLiteralTypeNode(n.argument) &&
      ts.isStringLiteral(n.argument.literal)
    ) {
      out.push({ spec: n.argument.literal.text, typeOnly: true, line: line(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** String and template texts of a file (comments are not code). */
function stringsOf(file: string, text: string): Array<{ text: string; line: number }> {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Array<{ text: string; line: number }> = [];
  const visit = (n: ts.Node) => {
    if (ts.isStringLiteralLike(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) {
      out.push({ text: n.text, line: sf.getLineAndCharacterOfPosition(n.getStart()).line + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const SQL =
  /\b(SELECT\s+(\*|[\w.]+\s*(,|FROM|AS)|COUNT|MIN|MAX|SUM|id\b)|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)|ALTER\s+TABLE|DROP\s+(TABLE|INDEX))/i;

describe("architecture (ARCHITECTURE.md)", () => {
  const files = sourceFiles(SRC).map((p) => ({
    path: p,
    rel: relative(SRC, p),
    text: readFileSync(p, "utf8"),
  }));

  it("imports in src/ only point down the layers", () => {
    const wrong: string[] = [];
    for (const f of files.filter((x) => !isTest(x.path))) {
      const from = layerOf(f.rel);
      for (const imp of importsOf(f.path, f.text)) {
        if (!imp.spec.startsWith(".")) continue;
        const target = resolve(dirname(f.path), imp.spec).replace(/\.js$/, ".ts");
        const rel = relative(SRC, target);
        if (rel.startsWith("..")) {
          wrong.push(`${f.rel}:${imp.line} imports ${imp.spec}, outside src/`);
          continue;
        }
        const to = layerOf(rel);
        if (to === from) continue;
        if (!LAYERS[from]?.includes(to)) {
          wrong.push(`${f.rel}:${imp.line} (${from}) imports ${rel} (${to})`);
          continue;
        }
        if (TYPE_ONLY.some(([a, b]) => a === from && b === to) && !imp.typeOnly)
          wrong.push(`${f.rel}:${imp.line} (${from}) may import ${rel} (${to}) only as a type`);
        if (from === "core" && to === "drivers" && !CORE_DRIVER_FILES.has(rel))
          wrong.push(`${f.rel}:${imp.line} core may see drivers only through drivers/driver.ts, not ${rel}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("SQL lives only in src/store/", () => {
    const wrong: string[] = [];
    for (const f of files.filter((x) => !isTest(x.path) && !x.rel.startsWith("store/"))) {
      for (const s of stringsOf(f.path, f.text)) {
        if (SQL.test(s.text)) wrong.push(`${f.rel}:${s.line}: ${s.text.slice(0, 80)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it("the check itself sees SQL and upward imports (it cannot pass vacuously)", () => {
    assert.ok(SQL.test("SELECT id FROM tasks WHERE due_at <= ?"));
    assert.ok(SQL.test("UPDATE instances SET state = ?"));
    assert.ok(!SQL.test("Select one of 4090, 5090"));
    const imps = importsOf("x.ts", 'import type { A } from "../a.js";\nimport { B } from "./b.js";');
    assert.deepEqual(
      imps.map((i) => [i.spec, i.typeOnly]),
      [
        ["../a.js", true],
        ["./b.js", false],
      ],
    );
    assert.ok(files.length > 50, "the walk found the sources");
  });

  it("no file under src/ is longer than 500 lines", () => {
    const long = files
      .map((f) => ({ rel: f.rel, lines: f.text.split("\n").length }))
      .filter((f) => f.lines > 500)
      .map((f) => `${f.rel}: ${f.lines} lines`);
    assert.deepEqual(long, []);
  });
});
