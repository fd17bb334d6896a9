import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Lru } from "./lru.js";

describe("Lru", () => {
  it("never holds more than its bound, and keeps what is used", () => {
    const lru = new Lru<number, string>(100);
    lru.set(0, "hot");
    for (let i = 1; i < 10_000; i++) {
      lru.set(i, `v${i}`);
      assert.ok(lru.size <= 100, `size ${lru.size} at ${i}`);
      assert.equal(lru.get(0), "hot", `the entry read all along is kept (at ${i})`);
    }
    assert.equal(lru.get(1), undefined, "one never read again is forgotten");
    assert.equal(lru.get(9_999), "v9999");
  });

  it("a set replaces the value wherever the key was", () => {
    const lru = new Lru<string, number>(4);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.set("a", 3);
    assert.equal(lru.get("a"), 3);
    lru.set("c", 4);
    lru.set("a", 5);
    assert.equal(lru.get("a"), 5);
    assert.ok(lru.size <= 4);
    lru.delete("a");
    assert.equal(lru.get("a"), undefined);
  });

  it("a bound of 0 keeps nothing", () => {
    const lru = new Lru<string, number>(0);
    lru.set("a", 1);
    assert.equal(lru.get("a"), undefined);
    assert.equal(lru.size, 0);
  });
});
