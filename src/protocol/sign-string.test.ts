import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { byteOrder } from "./sign-string.js";

describe("byteOrder without Buffer", () => {
  it("orders strings exactly as their UTF-8 bytes compare", () => {
    // Full Unicode strings, so surrogate pairs meet units of U+E000–U+FFFF (where UTF-16 order differs).
    const text = fc.string({ unit: "grapheme", maxLength: 12 });
    fc.assert(
      fc.property(text, text, (a, b) => {
        const want = Math.sign(Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
        assert.equal(Math.sign(byteOrder(a, b)), want);
      }),
      { numRuns: 2000 },
    );
  });

  it("a code point above U+FFFF sorts after U+FFFD, as in UTF-8", () => {
    assert.ok(byteOrder("\u{1F600}", "\uFFFD") > 0);
    assert.ok(byteOrder("ab", "abc") < 0);
    assert.equal(byteOrder("x", "x"), 0);
  });
});
