const UTF8 = new TextEncoder();
const TEXT = new TextDecoder();

/**
 * A JSON array whose elements are already encoded (UTF-8 JSON texts): {@link encodeJson} splices
 * them in byte for byte, so an element rendered once is not serialized and encoded again on every
 * response that carries it (serializing and encoding were half of a Describe page's CPU).
 * Anything else that serializes it (a log line, an in-process test) gets the parsed elements.
 */
export class EncodedJsonArray<T = unknown> {
  /** The elements' type, for the response types derived from the handlers (none at run time). */
  declare readonly element?: T;
  constructor(readonly items: readonly Uint8Array[]) {}

  get length(): number {
    return this.items.length;
  }

  toJSON(): T[] {
    return this.items.map((b) => JSON.parse(TEXT.decode(b)) as T);
  }
}

/** A response's fields as a client receives them: an encoded array is the array it encodes. */
export type AsSent<R> = { [K in keyof R]: R[K] extends EncodedJsonArray<infer U> ? U[] : R[K] };

/** One JSON value as UTF-8. */
export function encodeValue(value: unknown): Uint8Array {
  // TextEncoder, as Buffer.from took twice as long on Node 20 (~180 against ~230 µs for a page
  // whose OsName holds a CJK character, which makes the whole string two-byte).
  return UTF8.encode(JSON.stringify(value));
}

const OPEN = UTF8.encode("[");
const COMMA = UTF8.encode(",");
const CLOSE = UTF8.encode("]");

/**
 * An object as UTF-8 JSON, exactly as `JSON.stringify` would write it, with its top-level
 * {@link EncodedJsonArray} values spliced in as they are.
 */
export function encodeJson(body: Record<string, unknown>): Uint8Array {
  let spliced = false;
  for (const k in body) if (body[k] instanceof EncodedJsonArray) spliced = true;
  if (!spliced) return encodeValue(body);
  const parts: Uint8Array[] = [];
  let text = "{";
  let first = true;
  for (const [k, v] of Object.entries(body)) {
    const raw = v instanceof EncodedJsonArray ? v : undefined;
    // What JSON.stringify leaves out of an object (undefined, functions) is left out here too.
    const json = raw ? "" : (JSON.stringify(v) as string | undefined);
    if (json === undefined) continue;
    text += `${first ? "" : ","}${JSON.stringify(k)}:${json}`;
    first = false;
    if (!raw) continue;
    parts.push(UTF8.encode(text), OPEN);
    raw.items.forEach((item, i) => (i === 0 ? parts.push(item) : parts.push(COMMA, item)));
    parts.push(CLOSE);
    text = "";
  }
  parts.push(UTF8.encode(`${text}}`));
  return Buffer.concat(parts);
}
