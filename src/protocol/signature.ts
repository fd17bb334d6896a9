import { timingSafeEqual } from "node:crypto";
import { sha1Hex } from "../domain/sha1.js";

/**
 * A parameter value as it arrived: strings from a form or query string, typed values from JSON.
 * Signing must use the value as received (a client that signs `true` and sends `True` gets 171).
 */
export type WireValue = string | number | boolean | null | WireValue[] | { [k: string]: WireValue };

/**
 * Stringifies one value the way the UCloud SDKs do before hashing (reference §1.3):
 * booleans as `true`/`false`, integral floats without a fraction, arrays as the concatenation of
 * their elements (no indices), objects as their byte-sorted `key+value` pairs, null as nothing.
 */
export function signString(value: WireValue): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return formatNumber(value);
  if (Array.isArray(value)) return value.map(signString).join("");
  return sortedPairs(value);
}

/** Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent. */
function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return BigInt(n).toString();
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  // JS switches to exponent form below 1e-6; Go's 'f' format writes every zero out.
  const [, sign = "", lead = "", frac = "", exp = "0"] = m;
  return `${sign}0.${"0".repeat(-Number(exp) - 1)}${lead}${frac}`;
}

function sortedPairs(obj: { [k: string]: WireValue }): string {
  return Object.keys(obj)
    .sort(byteOrder)
    .map((k) => k + signString(obj[k] as WireValue))
    .join("");
}

/** Half of a UTF-16 surrogate pair: only such text orders differently by code unit than by UTF-8 byte. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Byte-order comparison, as Go's sort.Strings and Python's sorted() on str (for BMP text). */
export function byteOrder(a: string, b: string): number {
  // Below U+10000, UTF-16 code unit order is code point order, which is UTF-8 byte order.
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const ba = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  return Buffer.compare(ba, bb);
}

/**
 * Computes the signature over every parameter except `Signature`: lowercase hex SHA1 of the sorted
 * `key+value` concatenation followed by the private key. Not HMAC; the private key is never sent.
 */
export function computeSignature(params: Record<string, WireValue>, privateKey: string): string {
  const body = Object.keys(params)
    .filter((k) => k !== "Signature")
    .sort(byteOrder)
    .map((k) => k + signString(params[k] as WireValue))
    .join("");
  return sha1Hex(body + privateKey);
}

/** Constant-time comparison of a received signature with the expected one. */
export function signatureMatches(received: string, expected: string): boolean {
  const a = Buffer.from(received.toLowerCase(), "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}
