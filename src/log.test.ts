import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "./log.js";

function capture(level: "debug" | "info" = "debug") {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { log, lines };
}

describe("logger", () => {
  it("a field named level, msg or time never replaces the real one", () => {
    const { log, lines } = capture();
    log.warn("real", { level: "fake", msg: "fake", time: 0 });
    const [l] = lines;
    assert.equal(l?.level, "warn");
    assert.equal(l?.msg, "real");
    assert.notEqual(l?.time, 0);
    assert.equal(l?.field_level, "fake");
    assert.equal(l?.field_msg, "fake");
  });

  it("logs an Error under any key with its type, message and stack", () => {
    const { log, lines } = capture();
    log.error("failed", { err: new TypeError("bad input"), cause: new Error("deeper") });
    const err = lines[0]?.err as Record<string, string>;
    assert.equal(err.type, "TypeError");
    assert.equal(err.message, "bad input");
    assert.match(err.stack ?? "", /TypeError: bad input/);
    assert.equal((lines[0]?.cause as Record<string, string>).message, "deeper");
  });

  it("survives circular and BigInt fields instead of throwing", () => {
    const { log, lines } = capture();
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    assert.doesNotThrow(() => log.info("odd", { loop, big: 2n ** 70n }));
    assert.equal((lines[0]?.loop as Record<string, unknown>).self, "[Circular]");
    assert.equal(lines.length, 1);
  });

  it("redacts secrets by field name at any depth, and passwords in connection strings", () => {
    const { log, lines } = capture();
    log.child({ Signature: "abc", requestId: "r1" }).info("call", {
      PrivateKey: "k",
      params: { Password: "p", nested: [{ private_key: "x" }] },
      url: "postgres://ocs:s3cret@db:5432/ocs",
    });
    const text = JSON.stringify(lines[0]);
    for (const secret of ["abc", '"k"', '"p"', '"x"', "s3cret"]) assert.ok(!text.includes(secret), secret);
    assert.match(text, /postgres:\/\/ocs:\*\*\*\*@db:5432\/ocs/);
    assert.equal(lines[0]?.requestId, "r1");
  });

  it("drops lines below its level", () => {
    const { log, lines } = capture("info");
    log.debug("quiet");
    log.info("loud");
    assert.deepEqual(
      lines.map((l) => l.msg),
      ["loud"],
    );
  });
});
