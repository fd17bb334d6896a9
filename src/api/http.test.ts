import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { createLogger } from "../log.js";
import type { GatewayDeps } from "./gateway.js";
import { sendEnvelope } from "./gateway.js";
import { createHttpServer } from "./http.js";

describe("HTTP server", () => {
  it("a route that fails unexpectedly answers the error table's InternalError envelope, logged with its request id", async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    const http = createHttpServer({
      gateway: {} as GatewayDeps,
      log,
      driverName: "sim",
      extraRoutes: [
        {
          path: "/boom",
          handle: () => {
            throw new Error("a bug");
          },
        },
      ],
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    try {
      const { port } = http.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/boom`);
      assert.equal(res.status, 200);
      const requestId = res.headers.get("x-ucloud-request-uuid") ?? "";
      assert.match(requestId, /^[0-9a-f-]{36}$/);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.RetCode, 130);
      assert.equal(body.Message, `Internal error (request ${requestId}); the server log has details`);
      assert.doesNotMatch(JSON.stringify(body), /a bug/, "never the error itself on the wire");
      assert.ok(
        lines.some((l) => l.includes(requestId) && l.includes("a bug")),
        "the log has it, under the request id",
      );
    } finally {
      await new Promise<void>((r) => http.close(() => r()));
    }
  });

  it("a failure after an answer was handed over leaves the answer whole", async () => {
    const http = createHttpServer({
      gateway: {} as GatewayDeps,
      log: createLogger({ write: () => {} }),
      driverName: "sim",
      extraRoutes: [
        {
          path: "/late",
          handle: (_req, res) => {
            sendEnvelope(res, "r-1", { Action: "LateResponse", RetCode: 0, Padding: "x".repeat(4000) });
            throw new Error("after the answer");
          },
        },
      ],
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
    try {
      const { port } = http.address() as AddressInfo;
      for (let i = 0; i < 2; i++) {
        // Twice on one keep-alive connection: a cut answer would leave its client waiting for the
        // promised bytes, or read the next answer as its body.
        const res = await fetch(`http://127.0.0.1:${port}/late`, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as Record<string, unknown>;
        assert.equal(body.Action, "LateResponse");
        assert.equal((body.Padding as string).length, 4000);
      }
    } finally {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    }
  });
});
