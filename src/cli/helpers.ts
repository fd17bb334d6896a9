/** A usage error found after parsing (a missing flag, an unreadable time): exit 2, like a parse error. */
export class UsageError extends Error {}

/**
 * A stop time: Unix seconds, an ISO date-time, or relative (`+2h`, `in 90m`, `30s`).
 * Returns Unix seconds.
 */
export function parseTime(s: string, nowMs = Date.now()): number {
  const rel = /^(?:\+|in\s+)?(\d+)\s*(s|m|h|d)$/i.exec(s.trim());
  if (rel) {
    const mult = { s: 1, m: 60, h: 3600, d: 86400 }[(rel[2] as string).toLowerCase() as "s"];
    return Math.floor(nowMs / 1000) + Number(rel[1]) * mult;
  }
  if (/^\d{9,11}$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (Number.isNaN(t))
    throw new UsageError(`cannot read "${s}" as a time: use Unix seconds, an ISO date-time, or +2h / in 90m`);
  return Math.floor(t / 1000);
}

/** Local time with a relative hint: `2026-11-23 10:00:00 (in 2h)`. */
export function formatTime(unix: number, nowMs = Date.now()): string {
  if (!unix) return "-";
  const d = new Date(unix * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${local} (${relative(unix * 1000 - nowMs)})`;
}

function relative(deltaMs: number): string {
  const abs = Math.abs(deltaMs) / 1000;
  const [n, unit] =
    abs < 60
      ? [abs, "s"]
      : abs < 3600
        ? [abs / 60, "m"]
        : abs < 86400
          ? [abs / 3600, "h"]
          : [abs / 86400, "d"];
  const text = `${Math.round(n)}${unit}`;
  return deltaMs >= 0 ? `in ${text}` : `${text} ago`;
}

/** Aligned columns for humans. */
export function table(headers: string[], rows: Array<Array<string | number | boolean>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return `${cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")).join("\n")}\n`;
}
