import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const main = join(dirname(fileURLToPath(import.meta.url)), "main.js");

function ocs(args: string[], env: Record<string, string>) {
  return run(process.execPath, [main, ...args], { env: { ...process.env, ...env } });
}

describe("ocs CLI", () => {
  it("serve: prints the generated root key pair once and a working example call; SIGTERM exits 0", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-cli-"));
    const env = { ...process.env, OCS_DATA_DIR: dataDir, OCS_PORT: "0" };
    const start = async () => {
      const child = spawn(process.execPath, [main, "serve"], { env });
      let out = "";
      child.stdout.on("data", (d) => {
        out += String(d);
      });
      while (!out.includes("listening on") || !/\n\n$/.test(out)) {
        if (child.exitCode !== null) throw new Error(`serve exited: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return { child, out };
    };
    const first = await start();
    const curl = /curl -s '([^']+)'/.exec(first.out)?.[1];
    assert.ok(curl, first.out);
    assert.match(first.out, /printed only this once/);
    const r = (await (await fetch(curl)).json()) as Record<string, unknown>;
    assert.equal(r.RetCode, 0);
    assert.equal(r.Action, "GetProjectListResponse");
    first.child.kill("SIGTERM");
    const code = await new Promise((res) => first.child.on("exit", res));
    assert.equal(code, 0);

    const second = await start();
    assert.doesNotMatch(second.out, /PrivateKey/);
    assert.match(second.out, /Its private key was printed on first start/);
    second.child.kill("SIGTERM");
    await new Promise((res) => second.child.on("exit", res));
  });

  it("serve: bad configuration stops at start with a message naming the key", async () => {
    await assert.rejects(ocs(["serve"], { OCS_PORT: "http" }), (e: { stderr: string; code: number }) => {
      assert.match(e.stderr, /configuration error: OCS_PORT: must be a whole number/);
      assert.equal(e.code, 1);
      return true;
    });
  });

  it("admin: accounts, key pairs, projects against the configured store", async () => {
    const env = { OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-cli-")) };
    const created = await ocs(["admin", "account", "create", "alice"], env);
    assert.match(
      created.stdout,
      /account alice \(acc-[a-z0-9]+, number (\d+)\)\n {2}default project: org-[a-z0-9]{6}\n {2}PublicKey: {2}\S+\n {2}PrivateKey: \S+/,
    );
    // The number other accounts share images with it by.
    const number = /number (\d+)/.exec(created.stdout)?.[1];
    assert.match((await ocs(["admin", "account", "list"], env)).stdout, new RegExp(`\t#${number}\talice\t`));
    const key = await ocs(["admin", "key", "create", "alice"], env);
    const pub = /PublicKey: {2}(\S+)/.exec(key.stdout)?.[1] as string;
    assert.match(
      (await ocs(["admin", "key", "list", "alice"], env)).stdout,
      new RegExp(pub.replace(/[-]/g, "\\-")),
    );
    assert.match(
      (await ocs(["admin", "project", "create", "alice", "research"], env)).stdout,
      /^org-[a-z0-9]{6}\tresearch\n$/,
    );
    const projects = (await ocs(["admin", "project", "list", "alice"], env)).stdout.trim().split("\n");
    assert.equal(projects.length, 2);
    assert.match(projects[0] as string, /\tDefault\t\(default\)$/);
    await assert.rejects(ocs(["admin", "key", "create", "bob"], env), /account bob not found/);
    await assert.rejects(ocs(["admin", "account", "create", "alice"], env), /already exists/);
    assert.match((await ocs(["--help"], env)).stdout, /ocs admin account create <name>/);
  });

  it("admin: the same parser — unknown subcommand or flag is exit 2, user flags refused, -- honoured", async () => {
    const env = { OCS_DATA_DIR: mkdtempSync(join(tmpdir(), "ocs-cli-")) };
    const usage = (args: string[], stderr: RegExp) =>
      assert.rejects(ocs(args, env), (e: { stderr: string; code: number }) => {
        assert.equal(e.code, 2);
        assert.match(e.stderr, stderr);
        return true;
      });
    // An unknown subcommand is followed by the help of its group, which lists the right ones.
    await usage(
      ["admin", "frobnicate"],
      /unknown command 'frobnicate'[\s\S]*Usage: ocs admin[\s\S]*account\s/,
    );
    await usage(["admin", "account", "remove", "alice"], /unknown command 'remove'[\s\S]*create <name>/);
    await usage(["admin"], /Usage: ocs admin/);
    await usage(["admin", "account", "list", "--bogus"], /unknown option '--bogus'/);
    await usage(["admin", "account", "create"], /missing required argument 'name'/);
    await usage(["--json", "admin", "account", "list"], /--json is for the user commands/);
    await usage(["serve", "--base-url", "http://x"], /--base-url is for the user commands/);
    assert.match((await ocs(["admin", "account", "create", "--", "--ops"], env)).stdout, /account --ops /);
    assert.match((await ocs(["admin", "account", "list"], env)).stdout, /\t--ops\t/);
    assert.match((await ocs(["admin", "key", "list", "--help"], env)).stdout, /Example: ocs admin key list/);
  });
});
