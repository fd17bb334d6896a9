import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Engine, EngineError } from "./engine.js";

/** An engine stand-in on a unix socket: the handler answers each request. */
async function fakeEngine(
  handler: Parameters<typeof createServer>[1],
): Promise<{ socket: string; server: Server }> {
  const socket = join(mkdtempSync(join(tmpdir(), "ocs-fake-engine-")), "docker.sock");
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(socket, r));
  return { socket, server };
}

describe("Docker Engine client", () => {
  it("follows the event stream again after it ends (dockerd restarted)", async () => {
    let connections = 0;
    const { socket, server } = await fakeEngine((req, res) => {
      assert.match(String(req.url), /^\/v1\.41\/events\?filters=/);
      connections++;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(`${JSON.stringify({ Action: "die", Actor: { Attributes: { n: String(connections) } } })}\n`);
      // The first stream ends as a restarting dockerd's does; the second stays open.
      if (connections === 1) res.end();
    });
    const seen: string[] = [];
    const stop = new Engine(socket).events({}, (e) => seen.push(e.Actor.Attributes.n as string), 50);
    try {
      const deadline = Date.now() + 5000;
      while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, ["1", "2"]);
    } finally {
      stop();
      server.closeAllConnections();
      server.close();
    }
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(connections, 2, "stopped: not followed again");
  });

  it("reads errors reported inside a 200 progress stream (image import)", async () => {
    const { socket, server } = await fakeEngine((req, res) => {
      if (req.method === "GET") {
        res.end("tar bytes");
        return;
      }
      req.resume();
      req.on("end", () => {
        res.writeHead(200);
        res.end('{"status":"Importing"}\n{"error":"write /var/lib/docker/tmp: no space left on device"}\n');
      });
    });
    try {
      await assert.rejects(
        new Engine(socket).pipe("/containers/x/export", "/images/create?fromSrc=-"),
        (e: unknown) => e instanceof EngineError && /no space left on device/.test(e.message),
      );
    } finally {
      server.close();
    }
  });
});
