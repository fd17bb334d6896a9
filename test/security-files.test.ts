import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createPgDatabase, startTestServer } from "./helpers.js";
import { serveProcess } from "./processes.js";

const mode = (p: string) => statSync(p).mode & 0o777;

/** Runs `ocs serve` until its banner is out, makes one call, then SIGTERM; returns all it wrote. */
async function serveOnce(env: Record<string, string>): Promise<{ out: string; err: string }> {
  const p = await serveProcess({ OCS_LOG_LEVEL: "debug", ...env });
  // One call, so the request path logs too.
  await fetch(`${p.url}/?Action=GetProjectList&PublicKey=x&Signature=y`);
  await p.stop();
  return { out: p.out(), err: p.err() };
}

describe("secrets are never printed", () => {
  it("a configured root private key is not in the banner or the log", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-banner-"));
    const secret = "configured-private-key-7f3a9c";
    const { out, err } = await serveOnce({
      OCS_DATA_DIR: dataDir,
      OCS_ROOT_PUBLIC_KEY: "configured-public-key",
      OCS_ROOT_PRIVATE_KEY: secret,
    });
    assert.match(
      out,
      /Root PublicKey: configured-public-key {2}\(from OCS_ROOT_PUBLIC_KEY; its private key is not printed\)/,
    );
    assert.doesNotMatch(out + err, new RegExp(secret));
    // A signed example would be a replayable credential: none is printed for a configured key.
    assert.doesNotMatch(out, /Signature=/);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("the password of a PostgreSQL connection string is masked", async (ctx) => {
    const url = await createPgDatabase();
    if (!url) {
      if (process.env.CI === "true") throw new Error("OCS_TEST_PG_URL missing in CI");
      ctx.skip("PostgreSQL not available (see npm test output)");
      return;
    }
    // The test server trusts local connections, so any password is accepted and must not show.
    const withPassword = url.replace("://ocs@", "://ocs:pg-password-3b8e1d@");
    assert.notEqual(withPassword, url, `expected a URL of the form postgres://ocs@…: ${url}`);
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-banner-"));
    const { out, err } = await serveOnce({ OCS_DATA_DIR: dataDir, OCS_DATABASE_URL: withPassword });
    assert.match(out, /store: postgres:\/\/ocs:\*\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(out + err, /pg-password-3b8e1d/);
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe("files at rest", () => {
  it("the data dir is 0700 (tightened if it was not), the SQLite files and the master key 0600", async () => {
    const parent = mkdtempSync(join(tmpdir(), "ocs-files-"));
    const dataDir = join(parent, "data");
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const t = await startTestServer({ OCS_DATA_DIR: dataDir });
    try {
      await t.call("GetProjectList");
      assert.equal(mode(dataDir), 0o700);
      const files = readdirSync(dataDir).sort();
      assert.deepEqual(files, ["master.key", "ocs.sqlite", "ocs.sqlite-shm", "ocs.sqlite-wal"]);
      for (const f of files) assert.equal(mode(join(dataDir, f)), 0o600, f);
    } finally {
      await t.close();
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("OCS_MASTER_KEY_FILE keeps the master key out of the data dir (one backup never holds both)", async () => {
    const keyDir = mkdtempSync(join(tmpdir(), "ocs-key-"));
    const keyFile = join(keyDir, "ocs-master.key");
    const t = await startTestServer({ OCS_MASTER_KEY_FILE: keyFile });
    try {
      assert.equal((await t.call("GetProjectList")).RetCode, 0);
      assert.equal(mode(keyFile), 0o600);
      assert.equal(existsSync(join(t.dataDir, "master.key")), false);
    } finally {
      await t.close();
      rmSync(keyDir, { recursive: true, force: true });
    }
  });
});

describe("documented paths only", () => {
  it("the API answers at / only; /healthz and /metrics by GET; anything else is a plain 404", async () => {
    const t = await startTestServer({ OCS_METRICS_TOKEN: "metrics-token-0123456789" });
    try {
      const api = await fetch(`${t.url}/?Action=GetProjectList`);
      assert.equal(((await api.json()) as { RetCode: number }).RetCode, 170);
      for (const path of ["/x", "/api", "/healthz/", "/.env", "//", "/consoles", "/events/"]) {
        const r = await fetch(`${t.url}${path}?Action=GetProjectList`, { method: "POST" });
        assert.equal(r.status, 404, path);
        assert.match(((await r.json()) as { Message: string }).Message, /the API is served at \//);
      }
      assert.equal((await fetch(`${t.url}/healthz`, { method: "POST" })).status, 405);
      // The event stream and the console (src/api/routes.ts) answer GET only.
      assert.equal((await fetch(`${t.url}/events`, { method: "POST" })).status, 405);
      assert.equal((await fetch(`${t.url}/console/`, { method: "POST" })).status, 405);
      const bare = await fetch(`${t.url}/console`, { redirect: "manual" });
      assert.deepEqual([bare.status, bare.headers.get("location")], [301, "/console/"]);
      const page = await fetch(`${t.url}/console/`);
      assert.equal(page.status, 200);
      assert.match(
        page.headers.get("content-security-policy") ?? "",
        /default-src 'self'.*frame-ancestors 'none'/,
      );
      assert.match(await page.text(), /<div id="app"><\/div>/);
      // Only the built files answer under /console/ (sirv serves what it listed at start).
      for (const path of ["/console/%2e%2e/%2e%2e/package.json", "/console/..%2f..%2fpackage.json"])
        assert.equal((await fetch(`${t.url}${path}`)).status, 404, path);
      // /metrics wants the bearer token.
      assert.equal((await fetch(`${t.url}/metrics`)).status, 401);
      assert.equal(
        (await fetch(`${t.url}/metrics`, { headers: { Authorization: "Bearer wrong-token-0123456789" } }))
          .status,
        401,
      );
      const ok = await fetch(`${t.url}/metrics`, {
        headers: { Authorization: "Bearer metrics-token-0123456789" },
      });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /ocs_requests_total/);
    } finally {
      await t.close();
    }
  });
});
