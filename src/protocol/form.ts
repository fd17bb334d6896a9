// The official SDKs' form encoding, with no Node dependency (the browser console uses it too).

/** A request parameter a client may pass: nested arrays/objects are flattened to `A.0.B` keys. */
export type ParamValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | ParamValue[]
  | { [k: string]: ParamValue };

/**
 * Flattens parameters the way the official SDKs do for form bodies: arrays as `Name.N` (0-based),
 * objects as `Name.Field`, booleans as `true`/`false`, integral floats without a fraction; null and
 * undefined are dropped.
 */
export function flatten(params: Record<string, ParamValue>, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (item === null || item === undefined) return;
        if (typeof item === "object")
          Object.assign(out, flatten(item as Record<string, ParamValue>, `${key}.${i}`));
        else out[`${key}.${i}`] = String(item);
      });
    } else if (typeof v === "object") {
      Object.assign(out, flatten(v, key));
    } else {
      out[key] = String(v);
    }
  }
  return out;
}
