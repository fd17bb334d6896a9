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

/** One JSON value as UTF-8, in a buffer of its own (renderings are kept: see encodeJson). */
export function encodeValue(value: unknown): Uint8Array {
  // TextEncoder, as Buffer.from took twice as long on Node 20 (~180 against ~230 µs for a page
  // whose OsName holds a CJK character, which makes the whole string two-byte).
  return UTF8.encode(JSON.stringify(value));
}

/** Below this many characters an answer is encoded into Node's shared buffer pool. */
const POOLED = 2048;

/**
 * An object as UTF-8 JSON, exactly as `JSON.stringify` would write it, with its top-level
 * {@link EncodedJsonArray} values spliced in as they are, written into one buffer (no copy of the
 * parts and then of the whole).
 */
export function encodeJson(body: Record<string, unknown>): Uint8Array {
  let spliced = false;
  for (const k in body) if (body[k] instanceof EncodedJsonArray) spliced = true;
  if (!spliced) {
    // A short answer goes into Node's buffer pool: TextEncoder allocates an ArrayBuffer each time,
    // which cost a small answer more than its encoding. Never for what is kept (a kept slice would
    // hold its whole 8 KiB pool block).
    const text = JSON.stringify(body);
    return text.length < POOLED ? Buffer.from(text) : UTF8.encode(text);
  }
  // texts[i] comes before arrays[i]; the last text closes the object.
  const texts: string[] = [];
  const arrays: EncodedJsonArray[] = [];
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
    texts.push(text);
    arrays.push(raw);
    text = "";
  }
  texts.push(`${text}}`);
  let size = 0;
  for (const t of texts) size += Buffer.byteLength(t);
  for (const a of arrays) {
    size += 2 + Math.max(0, a.items.length - 1); // "[", "]" and the commas between the items
    for (const item of a.items) size += item.byteLength;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  arrays.forEach((a, i) => {
    at += out.write(texts[i] as string, at);
    out[at++] = 0x5b; // [
    a.items.forEach((item, j) => {
      if (j > 0) out[at++] = 0x2c; // ,
      out.set(item, at);
      at += item.byteLength;
    });
    out[at++] = 0x5d; // ]
  });
  out.write(texts[texts.length - 1] as string, at);
  return out;
}
