import assert from "node:assert/strict";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { computeSignature } from "../src/protocol/signature.js";
import type { TestServer } from "./helpers.js";
import { ROOT, startTestServer } from "./helpers.js";

/**
 * Limits enforced before the work (issue 16), on the wire against 127.0.0.1: every flood here is
 * bounded in size, and every wait is bounded by a deadline well under the server's own timeouts
 * on main (60 s), so a server that does the work first fails these tests instead of hanging them.
 */
let t: TestServer;
before(async () => {
  t = await startTestServer({
    OCS_HEADERS_TIMEOUT_SECONDS: "1",
    OCS_REQUEST_TIMEOUT_SECONDS: "2",
    OCS_MAX_CONNECTIONS: "8",
  });
});
after(async () => {
  await t.close();
});

const port = () => Number(new URL(t.url).port);

/** A raw connection that collects what the server sends and says when it closed. */
function rawConnection(): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(port(), "127.0.0.1");
  let data = "";
  socket.on("data", (d) => {
    data += String(d);
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  return { socket, received: () => data, closed };
}

/** Resolves with `p`, or fails after `ms` with `what` (a bounded wait, never a sleep). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function post(body: string, contentType = "application/x-www-form-urlencoded") {
  const res = await fetch(t.url, { method: "POST", headers: { "Content-Type": contentType }, body });
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

describe("limits before work", () => {
  it("a declared Content-Length over the limit is refused before the body is sent, and the connection closed", async () => {
    const c = rawConnection();
    // 300 MiB declared; only the headers and 64 KiB are ever sent. On main the server waits for
    // the rest of the body before it answers.
    c.socket.write(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 314572800\r\n\r\n",
    );
    c.socket.write(Buffer.alloc(65536, 0x41));
    await within(c.closed, 1500, "the server answers and closes");
    assert.match(c.received(), /^HTTP\/1\.1 200 OK/);
    assert.match(c.received(), /Connection: close/i);
    assert.match(
      c.received(),
      /"RetCode":230,"Message":"Params \[Body\] not available: larger than 1048576 bytes"/,
    );
  });

  it("a chunked body is refused as soon as it passes the limit, without reading to its end", async () => {
    const c = rawConnection();
    c.socket.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    // 1.25 MiB sent, the terminating chunk never: the answer must not wait for the end.
    for (let i = 0; i < 5; i++)
      c.socket.write(
        Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]),
      );
    await within(c.closed, 1500, "the server answers and closes");
    assert.match(c.received(), /larger than 1048576 bytes/);
  });

  it("slow headers and an idle connection are closed after OCS_HEADERS_TIMEOUT_SECONDS", async () => {
    const slow = rawConnection();
    slow.socket.write("POST / HTTP/1.1\r\nHost: x\r\n");
    const idle = rawConnection();
    // 1 s configured, checked every second: closed within 3 s (main: 66 s, checked every 30 s).
    await within(Promise.all([slow.closed, idle.closed]), 3500, "both connections closed");
    assert.match(slow.received(), /^HTTP\/1\.1 408/);
  });

  it("a slow body is cut off after OCS_REQUEST_TIMEOUT_SECONDS", async () => {
    const c = rawConnection();
    c.socket.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAction=");
    await within(c.closed, 4500, "the connection closed");
    assert.match(c.received(), /^HTTP\/1\.1 408/);
  });

  it("connections past OCS_MAX_CONNECTIONS are closed as they arrive; the others keep working", async () => {
    const held = Array.from({ length: 8 }, () => rawConnection());
    await Promise.all(held.map((c) => new Promise((r) => c.socket.once("connect", r))));
    const extra = rawConnection();
    extra.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await within(extra.closed, 1500, "the connection over the cap is closed");
    assert.equal(extra.received(), "", "nothing was served on it");
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    // The slots are free again.
    assert.equal(((await (await fetch(`${t.url}/healthz`)).json()) as { status: string }).status, "ok");
  });

  it("a parameter flood stops at the first parameter over the limit, before decoding the rest", async () => {
    // 120,000 empty parameters (the 790 KB body): refused as a flood.
    const empty = await post("&".repeat(120_000));
    assert.equal(empty.RetCode, 230);
    assert.match(String(empty.Message), /more than 2000 parameters/);
    // Parameter 2001 is over the limit; a broken escape after it is never reached (main decoded
    // every pair first and reported the escape).
    const pairs = Array.from({ length: 2001 }, (_, i) => `P${i}=1`).join("&");
    const r = await post(`${pairs}&Broken=%ZZ`);
    assert.match(String(r.Message), /more than 2000 parameters/);
  });

  it("a parameter name is refused by its raw length, before it is percent-decoded", async () => {
    const r = await post(`${"A".repeat(1000)}%ZZ=1`);
    assert.equal(r.RetCode, 230);
    assert.match(String(r.Message), /parameter name longer than 256/);
  });

  it("deeply nested JSON is refused by a flat scan: 230, not a stack overflow (130)", async () => {
    for (const depth of [9, 1000, 300_000]) {
      const body = `{"Action":"GetProjectList","X":${"[".repeat(depth)}${"]".repeat(depth)}}`;
      const r = await post(body, "application/json");
      assert.equal(r.RetCode, 230, `depth ${depth}: ${JSON.stringify(r)}`);
      assert.match(String(r.Message), /JSON nested deeper than 8 levels/);
    }
    const unclosed = await post(`{"A":${'{"a":'.repeat(200_000)}`, "application/json");
    assert.equal(unclosed.RetCode, 230);
    // A JSON body with too many values at any depth is a flood too.
    const wide = await post(`{"Action":"GetProjectList","X":[${"0,".repeat(20_000)}0]}`, "application/json");
    assert.match(String(wide.Message), /more than 2000 parameters/);
  });

  it("Go's JSON mode within the limits still works", async () => {
    const params = {
      Action: "DescribeCompShareInstance",
      Region: "cn-wlcb",
      UHostIds: Array.from({ length: 100 }, (_, i) => `uhost-${i}`),
      PublicKey: ROOT.publicKey,
    };
    const r = await post(
      JSON.stringify({ ...params, Signature: computeSignature(params, ROOT.privateKey) }),
      "application/json",
    );
    assert.equal(r.RetCode, 0, JSON.stringify(r));
  });
});

describe("limits are configurable", () => {
  it("OCS_MAX_BODY_BYTES, OCS_MAX_PARAMS and OCS_MAX_DEPTH", async () => {
    const s = await startTestServer(
      { OCS_MAX_BODY_BYTES: "2048", OCS_MAX_PARAMS: "20", OCS_MAX_DEPTH: "3" },
      {},
      { http: false },
    );
    try {
      const limits = s.server.gateway.limits;
      assert.deepEqual(limits, { bodyBytes: 2048, params: 20, depth: 3 });
      const { dispatch } = await import("../src/api/gateway.js");
      const call = (body: string, ct = "application/x-www-form-urlencoded") =>
        dispatch(s.server.gateway, "r", "POST", "", Buffer.from(body), ct).then((r) => r.body);
      assert.match(String((await call("x".repeat(3000))).Message), /larger than 2048 bytes/);
      assert.match(String((await call("&".repeat(21))).Message), /more than 20 parameters/);
      assert.match(String((await call("A.B.C.D=1")).Message), /nested deeper than 3 levels/);
      assert.match(
        String((await call('{"A":[[[[1]]]]}', "application/json")).Message),
        /deeper than 3 levels/,
      );
    } finally {
      await s.close();
    }
  });
});
