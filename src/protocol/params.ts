import { badParam } from "../domain/errors.js";
import type { WireValue } from "./signature.js";

/** Hard limits on what one request may carry; past them the request is refused with 230. */
export const LIMITS = {
  bodyBytes: 1024 * 1024,
  params: 2000,
  keyLength: 256,
  depth: 8,
  arrayIndex: 999,
} as const;

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

/** Decodes `a=1&b=2` strictly: malformed escapes and invalid UTF-8 are errors, not U+FFFD. */
export function parseUrlEncoded(raw: string | Buffer, where: string): Array<[string, string]> {
  const text = typeof raw === "string" ? raw : decodeUtf8(raw, where);
  const out: Array<[string, string]> = [];
  if (text.length === 0) return out;
  for (const part of text.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    const rawVal = eq === -1 ? "" : part.slice(eq + 1);
    const key = percentDecode(rawKey, where, "");
    out.push([key, percentDecode(rawVal, where, key)]);
  }
  return out;
}

function decodeUtf8(buf: Buffer, where: string): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw badParam(where, "not valid UTF-8");
  }
}

function percentDecode(s: string, where: string, key: string): string {
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
export function decodeParams(query: string, body: Buffer, contentType: string | undefined): DecodedParams {
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

  const queryPairs = parseUrlEncoded(query, "QueryString");
  const seenInQuery = new Set<string>();
  for (const [k, v] of queryPairs) {
    if (seenInQuery.has(k)) throw badParam(k, "given more than once");
    seenInQuery.add(k);
    put(k, v, false);
  }

  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (body.length > 0) {
    if (type === "application/json") {
      const text = decodeUtf8(body, "Body");
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw badParam("Body", `invalid JSON (${(e as Error).message})`);
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw badParam("Body", "a JSON body must be an object");
      }
      const keys = jsonKeys(text);
      for (const k of Object.keys(parsed)) {
        if ((keys.get(k) ?? 0) > 1) throw badParam(k, "given more than once");
        put(k, (parsed as Record<string, WireValue>)[k] as WireValue, seenInQuery.has(k));
      }
    } else if (type === "" || type === "application/x-www-form-urlencoded" || type === "text/plain") {
      const seenInBody = new Set<string>();
      for (const [k, v] of parseUrlEncoded(body, "Body")) {
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

  if (Object.keys(signParams).length > LIMITS.params) {
    throw badParam("Body", `more than ${LIMITS.params} parameters`);
  }
  return { signParams, tree: buildTree(signParams) };
}

function checkKey(key: string): void {
  if (key.length === 0) throw badParam("(empty)", "a parameter name is empty");
  if (key.length > LIMITS.keyLength) {
    throw badParam(key.slice(0, 40) + "…", `parameter name longer than ${LIMITS.keyLength}`);
  }
  if (key === "__proto__" || key === "constructor" || key === "prototype") {
    throw badParam(key, "reserved name");
  }
}

/**
 * Counts top-level key occurrences in a JSON object text. JSON.parse keeps the last of duplicate
 * keys silently; we refuse duplicates instead, so we count them with a small scanner.
 */
function jsonKeys(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  let depth = 0;
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === "{" || c === "[") {
      depth++;
      expectKey = c === "{" && depth === 1;
    } else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
    i++;
  }
  return counts;
}

/** Expands dotted keys (`Disks.0.Size`) into nested objects; nested JSON values are kept. */
function buildTree(flat: Record<string, WireValue>): ParamTree {
  const root: ParamTree = Object.create(null);
  for (const [key, value] of Object.entries(flat)) {
    const path = key.split(".");
    if (path.length > LIMITS.depth) throw badParam(key, `nested deeper than ${LIMITS.depth} levels`);
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
