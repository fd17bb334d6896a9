import type { Sample } from "../../core/monitor/monitor.js";
import { unixSeconds } from "../../domain/clock.js";
import { assertNever } from "../../domain/states.js";

/**
 * The metric keys of GetCompShareInstanceMonitor. The six percent keys are the docs'; the docs'
 * list of the rest was unreadable, so the four rate keys (bytes per second) are ours (README).
 */
export const METRIC_KEYS = [
  "uhost_cpu_used",
  "cloudwatch_memory_usage",
  "cloudwatch_sys_disk_used_per",
  "cloudwatch_data_disk_used_per",
  "cloudwatch_gpu_util",
  "cloudwatch_gpu_memory_usage",
  "uhost_net_in",
  "uhost_net_out",
  "uhost_disk_read",
  "uhost_disk_write",
] as const;

type Point = { Timestamp: number; Value: number };
type TagMap = Record<string, string>;
interface Series {
  tags: TagMap;
  values: Point[];
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** One value of each series a sample holds for a metric, keyed by the series' tags. */
function readings(
  key: (typeof METRIC_KEYS)[number],
  s: Sample,
): Array<{ id: string; tags: TagMap; value: number }> {
  const d = s.data;
  const one = (v: number | undefined, tags: TagMap = {}) =>
    v === undefined ? [] : [{ id: "", tags, value: v }];
  switch (key) {
    case "uhost_cpu_used":
      return one(d.cpu);
    case "cloudwatch_memory_usage":
      return one(d.memory);
    case "cloudwatch_sys_disk_used_per":
      return one(d.sysDisk, { mount: "/", disk: "vda" });
    case "cloudwatch_data_disk_used_per":
      return d.dataDisks.map((x) => ({
        id: x.id,
        tags: { mount: `/mnt/${x.id}`, disk: x.id },
        value: x.used,
      }));
    case "cloudwatch_gpu_util":
      return d.gpus.map((g) => ({ id: g.uuid, tags: { gpu_bus_id: g.busId, uuid: g.uuid }, value: g.util }));
    case "cloudwatch_gpu_memory_usage":
      return d.gpus.map((g) => ({
        id: g.uuid,
        tags: { gpu_bus_id: g.busId, uuid: g.uuid },
        value: g.memory,
      }));
    case "uhost_net_in":
      return one(d.netIn);
    case "uhost_net_out":
      return one(d.netOut);
    case "uhost_disk_read":
      return one(d.diskRead);
    case "uhost_disk_write":
      return one(d.diskWrite);
    default:
      return assertNever(key);
  }
}

/**
 * An instance's `Metrics[]` as the docs shape them: per key, one `Results[]` entry per series
 * (the instance; each data disk; each GPU) with its `TagMap` and `Values[]{Timestamp, Value}`, and
 * `Tags` listing every tag value of the key's series. A key with no reading in the range is left out.
 */
export function renderMetrics(uhostId: string, samples: Sample[]) {
  return METRIC_KEYS.flatMap((key) => {
    const series = new Map<string, Series>();
    for (const s of samples) {
      for (const r of readings(key, s)) {
        const entry = series.get(r.id) ?? { tags: r.tags, values: [] };
        entry.values.push({ Timestamp: unixSeconds(s.at), Value: round2(r.value) });
        series.set(r.id, entry);
      }
    }
    if (series.size === 0) return [];
    const tags: Record<string, string[]> = { uuid: [], disk: [], mount: [], gpu_bus_id: [] };
    for (const { tags: t } of series.values())
      for (const [k, v] of Object.entries(t)) if (tags[k] && !tags[k].includes(v)) tags[k].push(v);
    return [
      {
        MetricKey: key,
        Tags: tags,
        Results: [...series.values()].map((x) => ({
          ResourceId: uhostId,
          LongResourceId: uhostId,
          TagMap: x.tags,
          Values: x.values,
        })),
      },
    ];
  });
}
