import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect } from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestServer } from "../helpers.js";
import { ROOT, startTestServer } from "../helpers.js";
import { eventually, serveProcess } from "../processes.js";

/**
 * Native TLS (issue 16): the official SDKs talk HTTPS to the server with a private CA given
 * (Python: `ssl_cacert`; Go: SSL_CERT_FILE), plain HTTP gets nothing, and SIGHUP puts a renewed
 * certificate in place. Certificates are made here with openssl: a CA and a leaf for 127.0.0.1.
 * The throttle code is retried by both SDKs (counted on the server).
 */
const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = join(here, "..", "..", "..", "test", "conformance");
const PY = process.env.OCS_TEST_PYTHON;
const GO = process.env.OCS_TEST_GO;
const CI = process.env.CI === "true";

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function skipUnless(ok: boolean, what: string): { skip?: string } {
  if (ok) return {};
  if (CI) throw new Error(`${what} missing in CI`);
  return { skip: `${what} not available (see npm test output)` };
}

const dir = mkdtempSync(join(tmpdir(), "ocs-tls-"));
const ca = join(dir, "ca.crt");
/** A fresh P-256 key, unencrypted: the part of `openssl req` both certificates share. */
const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });

/** A leaf certificate for 127.0.0.1 signed by the test CA, written to `<name>.crt` / `<name>.key`. */
function leaf(name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  openssl("req", ...NEW_KEY, "-keyout", key, "-out", csr, "-subj", `/CN=${name}`);
  openssl(
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca,
    "-CAkey",
    join(dir, "ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    cert,
    "-extfile",
    ext,
  );
  return { cert, key };
}

/** The SHA-256 fingerprint of the certificate a TLS server at `port` presents. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, ca: execFileSync("cat", [ca]) }, () => {
      const raw = s.getPeerCertificate().raw;
      s.end();
      resolve(createHash("sha256").update(raw).digest("hex"));
    });
    s.on("error", reject);
  });
}

const fingerprintOf = (certFile: string) =>
  createHash("sha256")
    .update(Buffer.from(execFileSync("openssl", ["x509", "-in", certFile, "-outform", "DER"])))
    .digest("hex");

type Out = { ok: boolean; resp?: Record<string, unknown>; code?: number; message?: string };

describe("native TLS", skipUnless(hasOpenssl(), "openssl"), () => {
  let t: TestServer;
  let first: { cert: string; key: string };
  before(async () => {
    openssl(
      "req",
      "-x509",
      ...NEW_KEY,
      "-keyout",
      "ca.key",
      "-out",
      ca,
      "-days",
      "2",
      "-subj",
      "/CN=ocs test CA",
    );
    first = leaf("server");
    t = await startTestServer(
      { OCS_TLS_CERT: first.cert, OCS_TLS_KEY: first.key, OCS_ACCOUNT_RATE: "1", OCS_ACCOUNT_BURST: "1" },
      {},
      { http: false },
    );
    await t.server.listen();
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = () => `https://127.0.0.1:${(t.server.http.address() as { port: number }).port}`;

  async function py(args: Record<string, unknown>, env: Record<string, string> = {}): Promise<Out> {
    const { stdout } = await run(
      PY as string,
      [join(sourceDir, "python", "run.py"), "invoke", JSON.stringify(args)],
      {
        env: {
          ...process.env,
          OCS_URL: url(),
          OCS_PUBLIC_KEY: ROOT.publicKey,
          OCS_PRIVATE_KEY: ROOT.privateKey,
          ...env,
        },
      },
    );
    return JSON.parse(stdout.trim().split("\n").pop() as string) as Out;
  }

  it(
    "the official Python SDK calls over HTTPS with the CA given (ssl_cacert); without it, verification fails",
    skipUnless(Boolean(PY), "Python SDK"),
    async () => {
      const ok = await py({ action: "GetProjectList" }, { OCS_CA_CERT: ca });
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assert.equal(ok.resp?.ProjectCount, 1);
      // The SDK lets the transport's SSL error through (not a UCloudException): the driver exits 1.
      await assert.rejects(py({ action: "GetProjectList" }), /CERTIFICATE_VERIFY_FAILED/);
    },
  );

  it(
    "the official Go SDK calls over HTTPS with the CA in SSL_CERT_FILE",
    skipUnless(Boolean(GO), "Go SDK"),
    async () => {
      const { stdout } = await run(GO as string, ["projects", "{}"], {
        env: {
          ...process.env,
          OCS_URL: url(),
          OCS_PUBLIC_KEY: ROOT.publicKey,
          OCS_PRIVATE_KEY: ROOT.privateKey,
          SSL_CERT_FILE: ca,
        },
      });
      const r = JSON.parse(stdout.trim().split("\n").pop() as string) as Out;
      assert.equal(r.ok, true, stdout);
    },
  );

  it("plain HTTP on the TLS listener gets no answer", async () => {
    await assert.rejects(fetch(url().replace("https:", "http:")));
  });

  it("both SDKs retry the throttle code 8153: Python at once, Go with its backoff until it passes", async (ctx) => {
    const accounts = t.server.services.accounts;
    const throttled = () => {
      const m = /ocs_throttled_total\{reason="account_rate"\} (\d+)/.exec(t.server.gateway.metrics.render());
      return Number(m?.[1] ?? 0);
    };
    if (PY) {
      // A burst of 1 and 1 per second: of two calls at once one passes; the other is throttled and
      // retried twice at once (the Python SDK does not back off), so the server sees three refusals.
      const { keyPair } = await accounts.createAccount("retrying-py");
      const args = {
        action: "GetProjectList",
        public_key: keyPair.publicKey,
        private_key: keyPair.privateKey,
        max_retries: 2,
      };
      const before = throttled();
      const both = await Promise.all([py(args, { OCS_CA_CERT: ca }), py(args, { OCS_CA_CERT: ca })]);
      assert.deepEqual(both.map((r) => r.code ?? 0).sort(), [0, 8153], JSON.stringify(both));
      assert.equal(throttled() - before, 3);
    } else if (CI) throw new Error("Python SDK missing in CI");
    if (!GO) {
      if (CI) throw new Error("Go SDK missing in CI");
      ctx.skip("Go SDK not installed");
      return;
    }
    const go = async (keys: { publicKey: string; privateKey: string }, maxRetries: number) => {
      const { stdout } = await run(GO, ["projects", JSON.stringify({ max_retries: maxRetries })], {
        env: {
          ...process.env,
          OCS_URL: url(),
          OCS_PUBLIC_KEY: keys.publicKey,
          OCS_PRIVATE_KEY: keys.privateKey,
          SSL_CERT_FILE: ca,
        },
      });
      return JSON.parse(stdout.trim().split("\n").pop() as string) as Out;
    };
    // Two calls at once: without retries one is refused; with the SDK's retries (backoff
    // 100-199 ms, 400-796 ms, 1.6-3.2 s…) the second gets through once the bucket has refilled.
    const plainKeys = (await accounts.createAccount("plain-go")).keyPair;
    const plain = await Promise.all([go(plainKeys, 0), go(plainKeys, 0)]);
    assert.deepEqual(plain.map((r) => r.code ?? 0).sort(), [0, 8153], JSON.stringify(plain));
    const retryKeys = (await accounts.createAccount("retrying-go")).keyPair;
    const retried = await Promise.all([go(retryKeys, 4), go(retryKeys, 4)]);
    assert.deepEqual(
      retried.map((r) => r.ok),
      [true, true],
      JSON.stringify(retried),
    );
  });

  it("SIGHUP puts a renewed certificate in place without a restart; a bad one leaves the old", async () => {
    const certFile = join(dir, "live.crt");
    const keyFile = join(dir, "live.key");
    copyFileSync(first.cert, certFile);
    copyFileSync(first.key, keyFile);
    const dataDir = mkdtempSync(join(tmpdir(), "ocs-tls-data-"));
    const p = await serveProcess({
      OCS_DATA_DIR: dataDir,
      OCS_TLS_CERT: certFile,
      OCS_TLS_KEY: keyFile,
      OCS_LOG_LEVEL: "info",
    });
    const err = () => p.err();
    try {
      assert.match(p.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const port = Number(new URL(p.url).port);
      assert.equal(await servedFingerprint(port), fingerprintOf(first.cert));
      const renewed = leaf("renewed");
      copyFileSync(renewed.cert, certFile);
      copyFileSync(renewed.key, keyFile);
      p.child.kill("SIGHUP");
      await eventually(async () => err().includes("TLS certificate reloaded"), 10_000, "the reload");
      assert.equal(await servedFingerprint(port), fingerprintOf(renewed.cert));
      // A broken file: the reload fails loudly and the renewed certificate stays in use.
      writeFileSync(certFile, "not a certificate");
      p.child.kill("SIGHUP");
      await eventually(async () => err().includes("TLS reload failed"), 10_000, "the failed reload");
      assert.equal(await servedFingerprint(port), fingerprintOf(renewed.cert));
    } finally {
      await p.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
