import { isAscii } from "node:buffer";
import { badParam } from "../domain/errors.js";
import type { WireValue } from "./signature.js";

/**
 * What one request may carry; past a limit the request is refused with 230. Every limit is checked
 * while decoding, before the work it bounds: the body size before reading it, the parameter count
 * and key length pair by pair (a flood stops at the first parameter over), the JSON nesting depth
 * and value count by a flat scan before JSON.parse (nothing recursive ever sees a deep input).
 */
export interface DecodeLimits {
  bodyBytes: number;
  /** Parameters (query string and body together); in JSON, also the values at any depth. */
  params: number;
  /** Nesting depth: segments of a dotted form key, levels of a JSON value under the top object. */
  depth: number;
}

/** The defaults (README "Security"); the server takes them from OCS_MAX_* settings. */
export const DEFAULT_LIMITS: DecodeLimits = { bodyBytes: 1024 * 1024, params: 2000, depth: 8 };

/** Longest parameter name; checked on the raw bytes too, before a long name is even decoded. */
const KEY_LENGTH = 256;
/** Values a JSON body may hold at any depth, per allowed parameter (arrays of ids, disks…). */
const JSON_VALUES_PER_PARAM = 5;

/** A parameter tree: form keys `A.0.B` and nested JSON both end up as nested objects/arrays. */
export type ParamTree = { [k: string]: WireValue };

/** What the gateway needs from a request: the values to sign as received, and the merged tree. */
export interface DecodedParams {
  /** Top-level keys as sent (flat `Disks.0.Size` for forms, nested values for Go's JSON mode). */
  signParams: Record<string, WireValue>;
  /** The same parameters with dotted keys expanded, for schema coercion. */
  tree: ParamTree;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const FORM = "application/x-www-form-urlencoded";

/**
 * Decodes `a=1&b=2` strictly: malformed escapes and invalid UTF-8 are errors, not U+FFFD. Pairs
 * are taken one at a time, so a flood past `maxPairs` (empty ones included) is refused at the
 * first pair over, and an over-long name before it is percent-decoded.
 */
export function parseUrlEncoded(
  raw: string | Buffer,
  where: string,
  maxPairs = Number.POSITIVE_INFINITY,
  /** The request's whole limit, for the message (the query string may have used some of it). */
  limit = maxPairs,
): Array<[string, string]> {
  const text = typeof raw === "string" ? raw : decodeUtf8(raw, where);
  const out: Array<[string, string]> = [];
  let segments = 0;
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf("&", at);
    if (end === -1) end = text.length;
    if (++segments > maxPairs) throw tooManyParams(limit);
    if (end > at) {
      const part = text.slice(at, end);
      const eq = part.indexOf("=");
      const rawKey = eq === -1 ? part : part.slice(0, eq);
      // A percent-escape is at most 3 characters per byte, so this bounds the decoded name too.
      if (rawKey.length > KEY_LENGTH * 3) throw keyTooLong(rawKey);
      const rawVal = eq === -1 ? "" : part.slice(eq + 1);
      const key = percentDecode(rawKey, where, "");
      checkKey(key);
      out.push([key, percentDecode(rawVal, where, key)]);
    }
    at = end + 1;
  }
  return out;
}

function tooManyParams(max: number) {
  return badParam("Body", `more than ${max} parameters`);
}

function keyTooLong(key: string) {
  return badParam(`${key.slice(0, 40)}…`, `parameter name longer than ${KEY_LENGTH}`);
}

function decodeUtf8(buf: Buffer, where: string): string {
  // Nearly every body is ASCII, which needs no validation: checked natively, copied as is.
  if (isAscii(buf)) return buf.toString("latin1");
  try {
    return utf8.decode(buf);
  } catch {
    throw badParam(where, "not valid UTF-8");
  }
}

function percentDecode(s: string, where: string, key: string): string {
  if (s.indexOf("%") === -1 && s.indexOf("+") === -1) return s;
  const plus = s.replace(/\+/g, " ");
  if (!plus.includes("%")) return plus;
  const bytes: number[] = [];
  for (let i = 0; i < plus.length; ) {
    if (plus.charCodeAt(i) === 0x25) {
      const hex = plus.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw badParam(key || where, `malformed percent-escape "%${hex}"`);
      }
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else {
      // A whole code point: a character outside the BMP is two UTF-16 units, and encoding each
      // half alone would give two U+FFFD.
      const cp = plus.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      for (const b of Buffer.from(ch, "utf8")) bytes.push(b);
      i += ch.length;
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    throw badParam(key || where, "not valid UTF-8");
  }
}

/**
 * Builds the sign map and the tree from the query string and the body.
 *
 * A key may appear once. The Go SDK repeats `Action` in the query string "for logging" next to the
 * body; a repeat with the identical value is therefore accepted, any other repeat is an error.
 */
export function decodeParams(
  query: string,
  body: Buffer,
  contentType: string | undefined,
  limits: DecodeLimits = DEFAULT_LIMITS,
): DecodedParams {
  const signParams: Record<string, WireValue> = Object.create(null);
  const put = (key: string, value: WireValue, allowSameRepeat: boolean) => {
    checkKey(key);
    if (Object.hasOwn(signParams, key)) {
      const same = JSON.stringify(signParams[key]) === JSON.stringify(value);
      if (!(allowSameRepeat && same)) throw badParam(key, "given more than once");
      return;
    }
    signParams[key] = value;
  };

  if (body.length > limits.bodyBytes) throw badParam("Body", `larger than ${limits.bodyBytes} bytes`);
  const queryPairs = parseUrlEncoded(query, "QueryString", limits.params);
  const seenInQuery = new Set<string>();
  for (const [k, v] of queryPairs) {
    if (seenInQuery.has(k)) throw badParam(k, "given more than once");
    seenInQuery.add(k);
    put(k, v, false);
  }

  const type = contentType === FORM ? FORM : ((contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "");
  if (body.length > 0) {
    if (type === "application/json") {
      const text = decodeUtf8(body, "Body");
      // The flat scan runs first: JSON.parse and everything after it recurse over the value.
      const keys = scanJson(text, limits, limits.params - queryPairs.length);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw badParam("Body", `invalid JSON (${(e as Error).message})`);
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw badParam("Body", "a JSON body must be an object");
      }
      for (const k of Object.keys(parsed)) {
        if ((keys.get(k) ?? 0) > 1) throw badParam(k, "given more than once");
        put(k, (parsed as Record<string, WireValue>)[k] as WireValue, seenInQuery.has(k));
      }
    } else if (type === "" || type === FORM || type === "text/plain") {
      const seenInBody = new Set<string>();
      for (const [k, v] of parseUrlEncoded(body, "Body", limits.params - queryPairs.length, limits.params)) {
        if (seenInBody.has(k)) throw badParam(k, "given more than once");
        seenInBody.add(k);
        put(k, v, seenInQuery.has(k));
      }
    } else {
      throw badParam(
        "Content-Type",
        `unsupported "${type}"; use application/x-www-form-urlencoded or application/json`,
      );
    }
  }

  return { signParams, tree: buildTree(signParams, limits.depth) };
}

function checkKey(key: string): void {
  if (key.length === 0) throw badParam("(empty)", "a parameter name is empty");
  if (key.length > KEY_LENGTH) throw keyTooLong(key);
  if (key === "__proto__" || key === "constructor" || key === "prototype") {
    throw badParam(key, "reserved name");
  }
}

/**
 * One flat pass over a JSON text before it is parsed: refuses nesting deeper than `limits.depth`
 * under the top-level object and more than `maxKeys` top-level keys (or `maxKeys` × a few values
 * at any depth), and counts the top-level keys, because JSON.parse keeps the last of duplicate
 * keys silently and we refuse duplicates instead. A loop over the characters with a depth counter:
 * no recursion, so a 300,000-level nest costs one pass up to the level past the limit.
 */
function scanJson(text: string, limits: DecodeLimits, maxKeys: number): Map<string, number> {
  const counts = new Map<string, number>();
  const maxValues = Math.max(0, maxKeys) * JSON_VALUES_PER_PARAM;
  let depth = 0;
  let values = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      if (depth === 1 && expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          throw badParam("Body", "invalid JSON (a malformed key)");
        }
        if (key.length > KEY_LENGTH) throw keyTooLong(key);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        if (counts.size > maxKeys) throw tooManyParams(limits.params);
        expectKey = false;
      } else if (++values > maxValues) throw tooManyParams(limits.params);
      i = j + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      // Depth 1 is the body's own object; a parameter's value starts at depth 2.
      if (depth - 1 > limits.depth) throw badParam("Body", `JSON nested deeper than ${limits.depth} levels`);
      if (depth > 1 && ++values > maxValues) throw tooManyParams(limits.params);
      expectKey = c === 0x7b && depth === 1;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
    else if (c === 0x2c /* , */) {
      if (depth === 1) expectKey = true;
    } else if (depth > 1 && c !== 0x3a && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      // A number, true, false or null: one value, whatever its length.
      const prev = text.charCodeAt(i - 1);
      const startsValue = prev === 0x3a || prev === 0x2c || prev === 0x5b || prev <= 0x20;
      if (startsValue && ++values > maxValues) throw tooManyParams(limits.params);
    }
    i++;
  }
  return counts;
}

/** Expands dotted keys (`Disks.0.Size`) into nested objects; nested JSON values are kept. */
function buildTree(flat: Record<string, WireValue>, maxDepth: number): ParamTree {
  const root: ParamTree = Object.create(null);
  for (const key in flat) {
    const value = flat[key] as WireValue;
    // Most names have no dot: no path to split or walk (this was half of decoding a Describe).
    if (!key.includes(".")) {
      if (root[key] !== undefined) throw badParam(key, "given more than once");
      root[key] = value;
      continue;
    }
    const path = key.split(".");
    if (path.length > maxDepth) throw badParam(key, `nested deeper than ${maxDepth} levels`);
    let node: ParamTree = root;
    for (let i = 0; i < path.length - 1; i++) {
      const seg = path[i] as string;
      if (seg === "") throw badParam(key, "empty segment in parameter name");
      const existing = node[seg];
      if (existing === undefined) {
        const child: ParamTree = Object.create(null);
        node[seg] = child;
        node = child;
      } else if (existing !== null && typeof existing === "object" && !Array.isArray(existing)) {
        node = existing as ParamTree;
      } else if (Array.isArray(existing)) {
        throw badParam(key, `conflicts with parameter [${path.slice(0, i + 1).join(".")}]`);
      } else {
        throw badParam(key, `conflicts with parameter [${path.slice(0, i + 1).join(".")}]`);
      }
    }
    const last = path[path.length - 1] as string;
    if (last === "") throw badParam(key, "empty segment in parameter name");
    if (node[last] !== undefined) throw badParam(key, "given more than once");
    node[last] = value;
  }
  return root;
}
