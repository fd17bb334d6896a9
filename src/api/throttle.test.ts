import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TokenBuckets } from "./throttle.js";

describe("token buckets", () => {
  it("allow a burst, then refill at the rate; keys are independent", () => {
    let now = 0;
    const b = new TokenBuckets({ burst: 3, perSecond: 2, now: () => now });
    assert.deepEqual([b.take("a"), b.take("a"), b.take("a"), b.take("a")], [true, true, true, false]);
    assert.equal(b.allows("a"), false);
    assert.equal(b.retryAfter("a"), 1);
    assert.equal(b.take("b"), true, "another key has its own bucket");
    now += 500; // one token back
    assert.equal(b.take("a"), true);
    assert.equal(b.take("a"), false);
    now += 60_000; // never more than the burst
    assert.deepEqual([b.take("a"), b.take("a"), b.take("a"), b.take("a")], [true, true, true, false]);
  });

  it("allows() takes nothing; an unknown key is full", () => {
    const b = new TokenBuckets({ burst: 1, perSecond: 1, now: () => 0 });
    assert.equal(b.allows("x"), true);
    assert.equal(b.allows("x"), true);
    assert.equal(b.retryAfter("x"), 0);
    assert.equal(b.take("x"), true);
    assert.equal(b.allows("x"), false);
  });

  it("memory is bounded under a flood of keys: the least recently used are forgotten", () => {
    const b = new TokenBuckets({ burst: 1, perSecond: 1, maxKeys: 100, now: () => 0 });
    for (let i = 0; i < 10_000; i++) b.take(`k${i}`);
    assert.ok(b.size <= 100, `${b.size} buckets kept`);
    assert.equal(b.allows("k9999"), false, "the newest are kept");
  });
});
