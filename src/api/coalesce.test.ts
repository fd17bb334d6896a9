import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { createCoalescer } from "./coalesce.js";

/** A response that records what happened to it in `log`. */
function fakeRes(name: string, log: string[], opts: { throws?: boolean } = {}): ServerResponse {
  return {
    end(payload: Uint8Array) {
      if (opts.throws) throw new Error("socket gone");
      log.push(`${name}:${Buffer.from(payload).toString()}`);
    },
    destroy(e: Error) {
      log.push(`${name} destroyed: ${e.message}`);
    },
  } as unknown as ServerResponse;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe("answer coalescing", () => {
  it("holds a turn's answers and writes them together, in order, at one flush", async () => {
    const flushes: Array<() => void> = [];
    const c = createCoalescer((fn) => flushes.push(fn));
    const log: string[] = [];
    const a = fakeRes("a", log);
    const b = fakeRes("b", log);
    c.end(a, Buffer.from("1"));
    c.end(b, Buffer.from("2"));
    c.expectAnswer();
    assert.deepEqual(log, [], "nothing is written before the flush");
    assert.equal(flushes.length, 1, "one flush per turn, however many answers");
    assert.ok(c.holds(a) && c.holds(b), "both wait for the flush");
    flushes[0]?.();
    assert.deepEqual(log, ["a:1", "b:2"]);
    assert.ok(!c.holds(a) && !c.holds(b), "written: no longer held");
    c.end(fakeRes("c", log), Buffer.from("3"));
    assert.equal(flushes.length, 2, "an answer after the flush reserves the next one");
    flushes[1]?.();
    assert.deepEqual(log, ["a:1", "b:2", "c:3"]);
  });

  it("writes a request's answer before what its handling queued for the same turn", async () => {
    const c = createCoalescer();
    const log: string[] = [];
    c.expectAnswer(); // the request arrives
    setImmediate(() => log.push("worker round")); // its handling kicks the worker
    c.end(fakeRes("stop", log), Buffer.from("ok")); // and answers
    await turn();
    await turn();
    assert.deepEqual(log, ["stop:ok", "worker round"]);
  });

  it("a response that cannot be ended is destroyed; the others still go out", async () => {
    const c = createCoalescer();
    const log: string[] = [];
    c.end(fakeRes("a", log), Buffer.from("1"));
    c.end(fakeRes("b", log, { throws: true }), Buffer.from("2"));
    c.end(fakeRes("c", log), Buffer.from("3"));
    await turn();
    assert.deepEqual(log, ["a:1", "b destroyed: socket gone", "c:3"]);
  });
});
