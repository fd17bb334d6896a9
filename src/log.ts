import { pino } from "pino";
import type { DestinationStream } from "pino";

/** Structured JSON logs (pino), one line per event; child loggers carry request id, Action, account. */
export type Level = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * Field names whose values are secrets wherever they appear (any depth, any case): the wire's
 * PrivateKey, Password and Signature, and our own spellings of them.
 */
const SECRET_KEYS = /^(private_?key|password|passwd|signature|secret|master_?key|root_?private_?key|token)$/i;
/** A password inside a connection string: `scheme://user:password@host`. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)[^@/\s]*@/gi;
/** Keys pino writes itself; a field of the same name is renamed, never allowed to replace them. */
const RESERVED = new Set(["level", "msg", "time", "pid", "hostname"]);
const REDACTED = "[redacted]";
const MAX_DEPTH = 8;

/** Masks the password of every connection string in a text. */
export function maskUrlPasswords(text: string): string {
  // Every log field's strings pass through here: most hold no URL at all.
  return text.includes("://") ? text.replace(URL_PASSWORD, "$1****@") : text;
}

/** A copy of `value` with secrets redacted, errors made plain, and cycles cut. */
function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return maskUrlPasswords(value);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Object]";
  seen.add(value);
  if (value instanceof Error) {
    const plain: Record<string, unknown> = {
      type: value.name,
      message: maskUrlPasswords(value.message),
      stack: value.stack === undefined ? undefined : maskUrlPasswords(value.stack),
    };
    for (const [k, v] of Object.entries(value))
      plain[k] = SECRET_KEYS.test(k) ? REDACTED : scrub(v, depth + 1, seen);
    return plain;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEYS.test(k) ? REDACTED : scrub(v, depth + 1, seen);
  return out;
}

/** The fields of one line: scrubbed, with names pino owns moved aside (`msg` → `field_msg`). */
function clean(fields: Record<string, unknown>): Record<string, unknown> {
  const out = scrub(fields, 0, new WeakSet()) as Record<string, unknown>;
  for (const k of Object.keys(out)) {
    if (RESERVED.has(k)) {
      out[`field_${k}`] = out[k];
      delete out[k];
    }
  }
  return out;
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
    child: (fields) => lazyChild(p, { ...fields }),
  };
}

/**
 * A child logger made at its first line of an enabled level: every request gets one, and scrubbing
 * its fields into a pino child was a few percent of a Describe by id, for a line that most levels
 * never write.
 */
function lazyChild(parent: pino.Logger, fields: Record<string, unknown>): Logger {
  let made: Logger | undefined;
  const line =
    (level: Level) =>
    (m: string, f?: Record<string, unknown>): void => {
      if (!parent.isLevelEnabled(level)) return;
      made ??= wrap(parent.child(clean(fields)));
      made[level](m, f);
    };
  return {
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    child: (more) => (made ? made.child(more) : lazyChild(parent, { ...fields, ...more })),
  };
}

/**
 * A logger writing JSON lines to stderr (asynchronously, so a request never waits for the log), or
 * to `write` (tests). Secrets are redacted by field name and connection-string passwords masked.
 */
export function createLogger(
  opts: { level?: Level; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const dest: DestinationStream = opts.write
    ? { write: (line: string) => opts.write?.(line.replace(/\n$/, "")) }
    : pino.destination({ dest: 2, sync: false });
  const p = pino(
    {
      level: opts.level ?? "info",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors under any key are made plain by `clean`, the same way as under `err`.
      serializers: { err: (e: unknown) => e },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => clean(obj),
      },
    },
    dest,
  );
  return wrap(opts.base ? p.child(clean(opts.base)) : p);
}

/** A logger that drops everything, for tests. */
export const silentLogger: Logger = createLogger({ write: () => {}, level: "error" });
