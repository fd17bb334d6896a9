import { badParam, missingParam } from "../domain/errors.js";
import { assertNever } from "../domain/states.js";
import type { WireValue } from "./signature.js";

/**
 * A tiny schema language for request parameters. Each Action declares its fields once; the same
 * declaration coerces form strings and JSON values alike and names the parameter in every error.
 */
export type Field =
  | {
      kind: "string";
      required?: boolean;
      maxLength?: number;
      pattern?: RegExp;
      patternHint?: string;
      oneOf?: readonly string[];
    }
  | { kind: "int"; required?: boolean; min?: number; max?: number }
  | { kind: "float"; required?: boolean; min?: number; max?: number }
  | { kind: "bool"; required?: boolean }
  | { kind: "array"; of: Field; required?: boolean; maxItems?: number }
  | { kind: "object"; fields: Record<string, Field>; required?: boolean };

export type Schema = Record<string, Field>;

type Infer<F extends Field> = F extends { kind: "string" }
  ? string
  : F extends { kind: "int" } | { kind: "float" }
    ? number
    : F extends { kind: "bool" }
      ? boolean
      : F extends { kind: "array"; of: infer T extends Field }
        ? Infer<T>[]
        : F extends { kind: "object"; fields: infer S extends Schema }
          ? InferSchema<S>
          : never;

type RequiredKeys<S extends Schema> = {
  [K in keyof S]: S[K] extends { required: true } ? K : never;
}[keyof S];
type OptionalKeys<S extends Schema> = Exclude<keyof S, RequiredKeys<S>>;

/** The typed result of coercing with schema S. */
export type InferSchema<S extends Schema> = { [K in RequiredKeys<S>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

/** Field constructors, so schemas read as declarations. */
export const f = {
  str: <O extends Omit<Extract<Field, { kind: "string" }>, "kind">>(o?: O) => ({
    kind: "string" as const,
    ...(o as O),
  }),
  int: <O extends Omit<Extract<Field, { kind: "int" }>, "kind">>(o?: O) => ({
    kind: "int" as const,
    ...(o as O),
  }),
  float: <O extends Omit<Extract<Field, { kind: "float" }>, "kind">>(o?: O) => ({
    kind: "float" as const,
    ...(o as O),
  }),
  bool: <O extends Omit<Extract<Field, { kind: "bool" }>, "kind">>(o?: O) => ({
    kind: "bool" as const,
    ...(o as O),
  }),
  arr: <T extends Field, O extends { required?: boolean; maxItems?: number }>(of: T, o?: O) => ({
    kind: "array" as const,
    of,
    ...(o as O),
  }),
  obj: <S extends Schema, O extends { required?: boolean }>(fields: S, o?: O) => ({
    kind: "object" as const,
    fields,
    ...(o as O),
  }),
};

/**
 * Coerces a parameter tree against a schema: known parameters are typed and checked exactly as
 * declared; unknown ones are collected or refused (see {@link CoerceOptions}).
 */
export function coerce<S extends Schema>(
  schema: S,
  tree: Record<string, WireValue>,
  opts: CoerceOptions = {},
  prefix = "",
): InferSchema<S> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(tree)) {
    if (Object.hasOwn(schema, key)) continue;
    if (!opts.unknown) throw badParam(prefix + key, "unknown parameter");
    opts.unknown.push(prefix + key);
  }
  for (const [key, field] of Object.entries(schema)) {
    const name = prefix + key;
    const raw = tree[key];
    if (raw === undefined || raw === null || (raw === "" && field.kind !== "string")) {
      if (field.required) throw missingParam(name);
      continue;
    }
    out[key] = coerceValue(field, raw, name, opts);
  }
  return out as InferSchema<S>;
}

/**
 * How coercion treats parameters the schema does not know. The real gateway accepts and ignores
 * them (the official CLI always sends some the SDK models lack), so by default their names are
 * collected in `unknown` and nothing fails; without `unknown` they are refused (strict mode).
 */
export interface CoerceOptions {
  unknown?: string[];
}

function coerceValue(field: Field, raw: WireValue, name: string, opts: CoerceOptions): unknown {
  switch (field.kind) {
    case "string": {
      if (typeof raw === "object") throw badParam(name, "must be a string");
      const s = String(raw);
      if (field.required && s === "") throw missingParam(name);
      if (field.maxLength !== undefined && [...s].length > field.maxLength) {
        throw badParam(name, `longer than ${field.maxLength} characters`);
      }
      if (field.oneOf && !field.oneOf.includes(s)) {
        throw badParam(name, `must be one of ${field.oneOf.join(", ")}`);
      }
      if (field.pattern && !field.pattern.test(s)) {
        throw badParam(name, field.patternHint ?? `does not match ${field.pattern}`);
      }
      return s;
    }
    case "int":
    case "float": {
      let n: number;
      if (typeof raw === "number") n = raw;
      else if (typeof raw === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)) n = Number(raw);
      else throw badParam(name, `must be ${field.kind === "int" ? "an integer" : "a number"}`);
      if (!Number.isFinite(n)) throw badParam(name, "must be a finite number");
      if (field.kind === "int" && !Number.isSafeInteger(n)) throw badParam(name, "must be an integer");
      if (field.min !== undefined && n < field.min) throw badParam(name, `must be at least ${field.min}`);
      if (field.max !== undefined && n > field.max) throw badParam(name, `must be at most ${field.max}`);
      return n;
    }
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "string") {
        const l = raw.toLowerCase();
        if (l === "true") return true;
        if (l === "false") return false;
      }
      throw badParam(name, "must be true or false");
    }
    case "array": {
      const items = toArray(raw, name);
      if (field.maxItems !== undefined && items.length > field.maxItems) {
        throw badParam(name, `at most ${field.maxItems} items`);
      }
      if (field.required && items.length === 0) throw missingParam(`${name}.0`);
      return items.map((item, i) => coerceValue(field.of, item, `${name}.${i}`, opts));
    }
    case "object": {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw))
        throw badParam(name, "must be an object");
      return coerce(field.fields, raw, opts, `${name}.`);
    }
    default:
      return assertNever(field);
  }
}

/** Form arrays arrive as `{ "0": …, "1": … }`; JSON arrays as arrays; a lone scalar as one item. */
function toArray(raw: WireValue, name: string): WireValue[] {
  if (Array.isArray(raw)) return raw;
  if (raw !== null && typeof raw === "object") {
    const keys = Object.keys(raw);
    const indexes = keys.map((k) => {
      if (!/^(0|[1-9]\d{0,2})$/.test(k)) throw badParam(`${name}.${k}`, "array index must be 0..999");
      return Number(k);
    });
    indexes.sort((a, b) => a - b);
    indexes.forEach((n, i) => {
      if (n !== i) throw badParam(`${name}.${i}`, "array indexes must start at 0 with no gaps");
    });
    return indexes.map((i) => (raw as Record<string, WireValue>)[String(i)] as WireValue);
  }
  return [raw];
}
