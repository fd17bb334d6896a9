import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestServer } from "../../helpers.js";
import { ROOT } from "../../helpers.js";

/**
 * The official CompShare CLI (`compshare-cli` from PyPI, pinned in constraints.txt beside this file),
 * installed by scripts/test.mjs into its own virtualenv, whose python it names in
 * OCS_TEST_COMPSHARE_CLI. Runs through compshare.py, which only points the CLI's hard-coded base URL
 * at the test server.
 */
export const CLI_PYTHON = process.env.OCS_TEST_COMPSHARE_CLI;
const wrapper = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "..",
  "test",
  "conformance",
  "cli",
  "compshare.py",
);

/** `describe` options: skipped (loudly) where the CLI is not installed, an error under CI=true. */
export function needsCli(): { skip?: string } {
  if (CLI_PYTHON) return {};
  if (process.env.CI === "true")
    throw new Error("the official CLI is missing in CI (scripts/test.mjs installs it)");
  return { skip: "official CLI not installed (see npm test output)" };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * One user of the official CLI against one test server: its own config, SSH cache and template
 * files in a temporary home, English messages, a wide terminal (so tables keep whole ids), and the
 * usage-event reporting to the real service switched off (COMPSHARE_INSIGHTS_URL="").
 * Records which command paths ran successfully, so a suite can prove it ran every command it claims.
 */
export class CompshareCli {
  readonly home = mkdtempSync(join(tmpdir(), "ocs-cli-home-"));
  private readonly succeeded = new Set<string>();

  constructor(
    private readonly t: TestServer,
    private readonly commands: readonly string[],
    private readonly keys = ROOT,
  ) {}

  /** Runs `compshare <args>`; never throws on a non-zero exit (the result says it). */
  run(args: string[], stdin?: string): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      OCS_URL: this.t.url,
      COMPSHARE_PUBLIC_KEY: this.keys.publicKey,
      COMPSHARE_PRIVATE_KEY: this.keys.privateKey,
      COMPSHARE_CONFIG_FILE: join(this.home, "config.json"),
      COMPSHARE_SSH_CACHE_FILE: join(this.home, "ssh-cache.json"),
      COMPSHARE_TEMPLATE_FILE: join(this.home, "templates.json"),
      COMPSHARE_INSIGHTS_URL: "",
      COMPSHARE_LANG: "en",
      COLUMNS: "220",
      TERM: "dumb",
      NO_COLOR: "1",
    };
    return new Promise((resolve) => {
      const child = execFile(
        CLI_PYTHON as string,
        [wrapper, ...args],
        { env, timeout: 120_000, maxBuffer: 16 << 20 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          if (code === 0) {
            const path = this.commandPath(args);
            if (path) this.succeeded.add(path);
          }
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(stdin ?? "");
    });
  }

  /**
   * Runs a command that must succeed; returns its text output with the table rules (│ ┃) turned
   * into spaces, so a row reads as whitespace-separated cells.
   */
  async ok(args: string[], stdin?: string): Promise<string> {
    const r = await this.run(args, stdin);
    assert.equal(r.code, 0, `compshare ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return args.includes("--json") ? r.stdout : r.stdout.replace(/[│┃]/g, " ");
  }

  /** Runs a command with --json that must succeed; returns the envelope's `data`. */
  async json<T = Record<string, unknown>>(args: string[]): Promise<T> {
    const out = await this.ok(["--json", ...args]);
    const doc = JSON.parse(out) as { ok: boolean; data: T };
    assert.equal(doc.ok, true, out);
    return doc.data;
  }

  /** The longest leading run of non-option words that names one of this suite's commands. */
  private commandPath(args: string[]): string | undefined {
    const words = args.filter((a) => !a.startsWith("-"));
    for (let n = Math.min(3, words.length); n > 0; n--) {
      const path = words.slice(0, n).join(" ");
      if (this.commands.includes(path)) return path;
    }
    return undefined;
  }

  /** Fails unless every command this suite claims ran successfully at least once. */
  assertAllRan(): void {
    assert.deepEqual(
      this.commands.filter((c) => !this.succeeded.has(c)),
      [],
      "commands claimed as working (commands.ts, README) that this suite never ran successfully",
    );
  }

  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Polls `cond` until it holds (a guard against a hang, 20 s unless told, not a timing assertion). */
export async function until(cond: () => Promise<boolean>, guardMs = 20_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!(await cond())) {
    assert.ok(Date.now() < deadline, "condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}
