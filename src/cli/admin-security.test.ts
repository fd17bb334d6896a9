import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestServer } from "../../test/helpers.js";
import { ROOT, startTestServer } from "../../test/helpers.js";
import { eventually } from "../../test/processes.js";

const run = promisify(execFile);
const main = join(dirname(fileURLToPath(import.meta.url)), "main.js");

/**
 * `ocs admin` key and account lifecycle, quotas and the audit log, run as a separate process on
 * the store of a running server (as an operator does): what it disables stops working on the
 * server within the key cache's few seconds.
 */
let t: TestServer;
let env: Record<string, string>;
before(async () => {
  t = await startTestServer({}, {}, { http: false });
  env = {
    OCS_DATA_DIR: t.dataDir,
    OCS_ROOT_PUBLIC_KEY: ROOT.publicKey,
    OCS_ROOT_PRIVATE_KEY: ROOT.privateKey,
    ...(t.server.config.databaseUrl ? { OCS_DATABASE_URL: t.server.config.databaseUrl } : {}),
  };
});
after(async () => {
  await t.close();
});

function ocs(args: string[]) {
  return run(process.execPath, [main, ...args], { env: { ...process.env, ...env } });
}

async function fails(args: string[], code: number, stderr: RegExp) {
  await assert.rejects(ocs(args), (e: { stderr: string; code: number }) => {
    assert.equal(e.code, code, e.stderr);
    assert.match(e.stderr, stderr);
    return true;
  });
}

describe("ocs admin: keys, accounts, quotas, audit", () => {
  it("key list shows origin, created and last used; the last usable root key cannot go", async () => {
    await t.call("GetProjectList");
    await eventually(
      async () => /last used \d{4}-/.test((await ocs(["admin", "key", "list", "root"])).stdout),
      5000,
      "the root key's last use recorded",
    );
    const listed = (await ocs(["admin", "key", "list", "root"])).stdout;
    assert.match(
      listed,
      new RegExp(`^${ROOT.publicKey}\\tconfig\\tcreated \\d{4}-\\S+\\tlast used \\d{4}-\\S+\\n$`),
    );
    await fails(["admin", "key", "disable", ROOT.publicKey], 1, /last usable root key/);
    await fails(["admin", "key", "delete", ROOT.publicKey], 1, /last usable root key/);
    await fails(["admin", "account", "disable", "root"], 1, /root account cannot be disabled/);
  });

  it("a key disabled by ocs admin stops working on the running server within seconds; enabled, it works again", async () => {
    const created = (await ocs(["admin", "account", "create", "dora"])).stdout;
    const keys = {
      publicKey: /PublicKey: {2}(\S+)/.exec(created)?.[1] as string,
      privateKey: /PrivateKey: (\S+)/.exec(created)?.[1] as string,
    };
    assert.equal((await t.call("GetProjectList", {}, keys)).RetCode, 0);
    assert.match((await ocs(["admin", "key", "disable", keys.publicKey])).stdout, /disabled/);
    await eventually(
      async () => (await t.call("GetProjectList", {}, keys)).RetCode === 172,
      8000,
      "the key refused",
    );
    assert.match((await ocs(["admin", "key", "list", "dora"])).stdout, /\tdisabled \d{4}-/);
    await ocs(["admin", "key", "enable", keys.publicKey]);
    await eventually(
      async () => (await t.call("GetProjectList", {}, keys)).RetCode === 0,
      8000,
      "the key back",
    );

    await ocs(["admin", "account", "disable", "dora"]);
    assert.match((await ocs(["admin", "account", "list"])).stdout, /\tdora\t.*\tdisabled \d{4}-/);
    await eventually(
      async () => (await t.call("GetProjectList", {}, keys)).RetCode === 172,
      8000,
      "the account refused",
    );
    await ocs(["admin", "account", "enable", "dora"]);

    await ocs(["admin", "key", "delete", keys.publicKey]);
    assert.equal((await ocs(["admin", "key", "list", "dora"])).stdout, "");
    await fails(["admin", "key", "enable", keys.publicKey], 1, /not found/);
  });

  it("account quota sets the instance and GPU quotas", async () => {
    await ocs(["admin", "account", "create", "erin"]);
    assert.match(
      (await ocs(["admin", "account", "quota", "erin", "--gpus", "2", "--instances", "5"])).stdout,
      /erin: 5 instances, 2 GPUs/,
    );
    assert.match((await ocs(["admin", "account", "list"])).stdout, /\terin\tquota 5 instances, 2 GPUs\n/);
    await fails(["admin", "account", "quota", "erin"], 2, /give --instances and\/or --gpus/);
    await fails(["admin", "account", "quota", "erin", "--gpus", "many"], 2, /whole number/);
  });

  it("audit shows operators' changes, mutating calls and failed authentications, with filters", async () => {
    await t.call("StopCompShareInstance", { Region: "cn-wlcb", Zone: "cn-wlcb-01", UHostId: "uhost-gone" });
    await t.call("GetProjectList", {}, { publicKey: ROOT.publicKey, privateKey: "wrong" });
    await t.server.services.audit.flush();
    const all = (await ocs(["admin", "audit", "--limit", "200"])).stdout;
    assert.match(all, /\tadmin\t\S+\tcli\tkey disable\t0\t/);
    assert.match(all, /\tcall\tacc-\w+\tlocal\tStopCompShareInstance\t8039\tuhost-gone\t[0-9a-f-]{36}\t/);
    assert.match(all, /\tauth-failure\tacc-\w+\tlocal\tGetProjectList\t171\t-\t/);
    const failures = (
      await ocs(["admin", "audit", "--kind", "auth-failure", "--since", "1h", "--jsonl"])
    ).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; retCode: number });
    assert.ok(failures.length >= 1);
    assert.ok(failures.every((e) => e.kind === "auth-failure"));
    assert.match((await ocs(["admin", "audit", "--resource", "uhost-gone"])).stdout, /StopCompShareInstance/);
    await fails(["admin", "audit", "--kind", "bogus"], 2, /Allowed choices are call, auth-failure, admin/);
    await fails(["admin", "audit", "--since", "yesterday-ish"], 2, /--since yesterday-ish/);
  });
});
