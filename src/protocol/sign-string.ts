/**
 * The string the UCloud signature hashes, with no Node dependency: the server (src/protocol/signature.ts),
 * the SDK and the browser console (which hashes it with its own SHA1) build it here, so it is written once.
 */

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

/**
 * Byte-order comparison of the UTF-8 encodings, as Go's sort.Strings and Python's sorted() on str.
 * UTF-8 byte order is code-point order; JavaScript's `<` compares UTF-16 units, which differs only
 * where a surrogate pair (a code point above U+FFFF) meets a unit in U+E000–U+FFFF, so those two
 * ranges are swapped before comparing.
 */
export function byteOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/**
 * What is hashed, before the private key is appended: every parameter except `Signature`, sorted
 * by key in byte order, as `key + value` concatenated.
 */
export function signingPayload(params: Record<string, WireValue>): string {
  return Object.keys(params)
    .filter((k) => k !== "Signature")
    .sort(byteOrder)
    .map((k) => k + signString(params[k] as WireValue))
    .join("");
}
