import type { Answer } from "../lib/api.js";
import { time } from "../lib/format.js";
import { lang, stateLabel } from "../lib/i18n.js";

/** What an event says, in the page's language (the kind itself is shown beside it). */
export function eventText(e: Answer): string {
  const d = (e.Data ?? {}) as Answer;
  const zh = lang.get() === "zh";
  const st = (s: unknown) => stateLabel(String(s ?? ""));
  const gpus = Array.isArray(d.gpus) ? d.gpus.join(",") : "";
  switch (e.Kind) {
    case "instance.created":
      return zh ? `创建“${d.name}”` : `created "${d.name}"`;
    case "instance.renamed":
      return zh ? `重命名为“${d.name}”` : `renamed to "${d.name}"`;
    case "operation.started":
      return `${d.operation}: ${d.from ? `${st(d.from)} → ` : ""}${st(d.state)}${d.origin && d.origin !== "user" ? ` (${d.origin})` : ""}`;
    case "operation.finished":
      return `${d.operation} → ${st(d.state)}`;
    case "operation.failed":
      return zh
        ? `${d.operation} 失败，回到 ${st(d.state)}：${d.reason}`
        : `${d.operation} failed, back to ${st(d.state)}: ${d.reason}`;
    case "schedule.set":
      return zh ? `定时关机：${time(Number(d.at))}` : `stop scheduled for ${time(Number(d.at))}`;
    case "schedule.fired":
      return zh ? "定时关机已触发" : "scheduled stop fired";
    case "schedule.cleared":
      return zh ? "已取消定时关机" : "scheduled stop cancelled";
    case "gpus.taken":
      return zh ? `占用 GPU ${gpus}（${d.hostId}）` : `GPUs ${gpus} taken on ${d.hostId}`;
    case "gpus.released":
      return zh ? `释放 GPU ${gpus}（${d.hostId}）` : `GPUs ${gpus} released on ${d.hostId}`;
    case "instance.stopped-out-of-band":
      return zh ? `在外部被停止：${d.reason}` : `stopped outside opencompshare: ${d.reason}`;
    default:
      return Object.keys(d).length ? JSON.stringify(d) : "";
  }
}
