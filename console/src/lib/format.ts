import { lang } from "./i18n.js";

const pad = (n: number) => String(n).padStart(2, "0");

/** Unix seconds as local `YYYY-MM-DD HH:mm:ss` ("-" for 0, the wire's "unset"). */
export function time(unix: number): string {
  if (!unix) return "-";
  const d = new Date(unix * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "in 2h" / "5m ago" (or 2小时后 / 5分钟前) against `nowMs`. */
export function relative(unix: number, nowMs = Date.now()): string {
  if (!unix) return "";
  const delta = unix * 1000 - nowMs;
  const abs = Math.abs(delta) / 1000;
  const zh = lang.get() === "zh";
  const [n, unit] =
    abs < 60
      ? [abs, zh ? "秒" : "s"]
      : abs < 3600
        ? [abs / 60, zh ? "分钟" : "m"]
        : abs < 86400
          ? [abs / 3600, zh ? "小时" : "h"]
          : [abs / 86400, zh ? "天" : "d"];
  const v = Math.round(n);
  if (zh) return delta >= 0 ? `${v}${unit}后` : `${v}${unit}前`;
  return delta >= 0 ? `in ${v}${unit}` : `${v}${unit} ago`;
}

export const gb = (mb: number) => `${Math.round((mb / 1024) * 10) / 10}`;

/** A price in yuan, with the decimals it has (2 to 4). */
export function money(v: number): string {
  const r = Math.round(v * 10000) / 10000;
  const decimals = Math.min(4, Math.max(2, (String(r).split(".")[1] ?? "").length));
  return `¥${r.toFixed(decimals)}`;
}

/** The unit a charge type's price is per. */
export function chargeUnit(chargeType: string): string {
  const zh = lang.get() === "zh";
  if (chargeType === "Day") return zh ? "天" : "day";
  if (chargeType === "Month") return zh ? "月" : "month";
  if (chargeType === "Year") return zh ? "年" : "year";
  return zh ? "小时" : "hour";
}

/** Local date-time for an `<input type="datetime-local">` from Unix seconds. */
export function toLocalInput(unix: number): string {
  const d = new Date(unix * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Base64 of UTF-8 text (passwords travel base64-encoded on the wire). */
export function b64(s: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(s)));
}

export function unb64(s: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));
  } catch {
    return s;
  }
}
