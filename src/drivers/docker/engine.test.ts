import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { Server, ServerResponse } from "node:http";
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

/** Resolves once `done()` holds, or fails after `ms`. */
async function until(done: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function stopServer(server: Server): void {
  server.closeAllConnections();
  server.close();
}

/**
 * A stand-in whose export `exporter` serves and whose import takes the bytes and never answers;
 * `closed` lists the requests whose connection was closed, which only an abort does here.
 */
async function stallingPipe(exporter: (res: ServerResponse) => void) {
  const closed: string[] = [];
  const engine = await fakeEngine((req, res) => {
    res.on("close", () => closed.push(String(req.method)));
    if (req.method === "GET") exporter(res);
    else req.resume();
  });
  return { ...engine, closed };
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

  it("treats an error answer on the event stream as an error, not as events, and reports it", async () => {
    const { socket, server } = await fakeEngine((_req, res) => {
      // A line that parses as JSON, as dockerd's error bodies do.
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end('{"message":"client version 1.41 is too old"}\n');
    });
    const events: unknown[] = [];
    const errors: EngineError[] = [];
    const stop = new Engine(socket).events({}, (e) => events.push(e), {
      retryMs: 20,
      onError: (e) => errors.push(e),
    });
    try {
      await until(() => errors.length >= 2);
    } finally {
      stop();
      stopServer(server);
    }
    assert.deepEqual(events, []);
    assert.ok(errors[0] instanceof EngineError);
    assert.equal(errors[0].status, 500);
    assert.equal(errors[0].kind, "engine");
    assert.equal(errors[0].message, "client version 1.41 is too old");
  });

  it("backs off, capped, while the event stream keeps failing, and from the start once it answers", async () => {
    const at: number[] = [];
    const { socket, server } = await fakeEngine((_req, res) => {
      at.push(Date.now());
      // Four failures, then a stream that ends at once (a restart), then failures again.
      if (at.length === 5) {
        res.writeHead(200);
        res.end();
      } else {
        res.writeHead(503);
        res.end("engine starting");
      }
    });
    const stop = new Engine(socket).events({}, () => {}, { retryMs: 40, maxRetryMs: 160, onError: () => {} });
    try {
      await until(() => at.length >= 6);
    } finally {
      stop();
      stopServer(server);
    }
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    const [g0, g1, g2, g3, g4] = gaps as [number, number, number, number, number];
    // Timers may fire a millisecond early; 40, 80, 160, 160 (capped, not 320), then 40 again.
    assert.ok(g0 >= 35 && g1 >= 75 && g2 >= 155 && g3 >= 155, `doubling: ${gaps}`);
    assert.ok(g3 < 300, `capped: ${gaps}`);
    assert.ok(g4 < g3, `reset after an answer: ${gaps}`);
  });

  it("reports a request that times out as a timeout, not as an unreachable engine", async () => {
    // Takes the request and never answers, as a stuck dockerd does.
    const { socket, server } = await fakeEngine(() => {});
    try {
      await assert.rejects(
        new Engine(socket).call("POST", "/commit?container=x", undefined, { timeoutMs: 100 }),
        (e: unknown) => {
          assert.ok(e instanceof EngineError);
          assert.equal(e.kind, "timeout");
          assert.equal(e.status, 0);
          assert.match(e.message, /timed out on POST \/commit\?container=x: nothing received for 0\.1 s/);
          assert.doesNotMatch(e.message, /unreachable/);
          return true;
        },
      );
    } finally {
      stopServer(server);
    }
  });

  it("still reports a missing socket as unreachable, with the dockerd hint", async () => {
    const socket = join(mkdtempSync(join(tmpdir(), "ocs-no-engine-")), "docker.sock");
    await assert.rejects(new Engine(socket).call("GET", "/version"), (e: unknown) => {
      assert.ok(e instanceof EngineError);
      assert.equal(e.kind, "unreachable");
      assert.match(e.message, /^Docker Engine unreachable at .*: .*ENOENT.*\(is dockerd running\?\)$/);
      return true;
    });
  });

  it("aborts a pipe that moves nothing for its idle time, on both sides", { timeout: 5000 }, async () => {
    const { socket, server, closed } = await stallingPipe((res) => {
      res.writeHead(200);
      res.write("the first bytes of a tar");
    });
    try {
      await assert.rejects(
        new Engine(socket).pipe("/containers/x/export", "/images/create?fromSrc=-", undefined, {
          idleMs: 150,
        }),
        (e: unknown) => {
          assert.ok(e instanceof EngineError);
          assert.equal(e.kind, "timeout");
          assert.match(
            e.message,
            /timed out on GET \/containers\/x\/export piped into POST \/images\/create\?fromSrc=-: nothing moved for 0\.15 s/,
          );
          return true;
        },
      );
      await until(() => closed.includes("GET") && closed.includes("POST"), 1000);
    } finally {
      stopServer(server);
    }
  });

  it(
    "aborts a pipe that is not done in its time even while bytes still move",
    { timeout: 5000 },
    async () => {
      let trickle: NodeJS.Timeout | undefined;
      const { socket, server, closed } = await stallingPipe((res) => {
        res.writeHead(200);
        trickle = setInterval(() => res.write("x".repeat(512)), 20);
        res.on("close", () => clearInterval(trickle));
      });
      try {
        await assert.rejects(
          new Engine(socket).pipe("/containers/x/export", "/images/create?fromSrc=-", undefined, {
            timeoutMs: 300,
            idleMs: 10_000,
          }),
          (e: unknown) =>
            e instanceof EngineError && e.kind === "timeout" && /not done in 0\.3 s/.test(e.message),
        );
        await until(() => closed.includes("GET") && closed.includes("POST"), 1000);
      } finally {
        clearInterval(trickle);
        stopServer(server);
      }
    },
  );
});
