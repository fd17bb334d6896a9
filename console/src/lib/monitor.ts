import { useEffect, useState } from "preact/hooks";
import type { Answer } from "./api.js";
import { api } from "./session.js";

/** One chart's points: Unix seconds → percent. */
export type Series = Map<number, number>;

export interface Charts {
  cpu: Series;
  memory: Series;
  /** The mean over the GPUs the instance holds. */
  gpu: Series;
}

/** How far back the charts go, and how often they refresh. */
const WINDOW_SECONDS = 3600;
export const REFRESH_SECONDS = 10;

/** Adds one GetCompShareInstanceMonitor answer's readings to the charts. */
function merge(charts: Charts, answer: Answer): Charts {
  const metrics = ((answer.Data?.List as Answer[] | undefined)?.[0]?.Metrics ?? []) as Answer[];
  const next: Charts = { cpu: new Map(charts.cpu), memory: new Map(charts.memory), gpu: new Map(charts.gpu) };
  const into = (key: string, target: Series) => {
    const results = (metrics.find((m) => m.MetricKey === key)?.Results ?? []) as Answer[];
    const sums = new Map<number, { sum: number; n: number }>();
    for (const r of results)
      for (const v of r.Values as Answer[]) {
        const s = sums.get(v.Timestamp) ?? { sum: 0, n: 0 };
        sums.set(v.Timestamp, { sum: s.sum + Number(v.Value), n: s.n + 1 });
      }
    for (const [ts, s] of sums) target.set(ts, s.sum / s.n);
  };
  into("uhost_cpu_used", next.cpu);
  into("cloudwatch_memory_usage", next.memory);
  into("cloudwatch_gpu_util", next.gpu);
  const latest = Math.max(0, ...next.cpu.keys(), ...next.gpu.keys());
  for (const s of [next.cpu, next.memory, next.gpu])
    for (const ts of [...s.keys()]) if (ts < latest - WINDOW_SECONDS) s.delete(ts);
  return next;
}

/**
 * The instance's CPU, memory and GPU charts from the collector's samples (GetCompShareInstanceMonitor):
 * the last hour by the server's clock (which the emulator may have moved), then refreshed.
 */
export function useMonitor(uhostId: string, running: boolean): Charts {
  const [charts, setCharts] = useState<Charts>({ cpu: new Map(), memory: new Map(), gpu: new Map() });
  useEffect(() => {
    let stopped = false;
    let latest = 0;
    const empty: Charts = { cpu: new Map(), memory: new Map(), gpu: new Map() };
    let current = empty;
    const load = async (params: Record<string, number>) => {
      const r = await api().call("GetCompShareInstanceMonitor", { UHostIds: [uhostId], ...params });
      if (stopped) return;
      current = merge(current, r);
      latest = Math.max(latest, ...current.cpu.keys(), ...current.gpu.keys());
      setCharts(current);
    };
    setCharts(empty);
    if (!running) return;
    // The default window is the last 60 s of the server's clock; from its newest reading, the hour before.
    void (async () => {
      await load({}).catch(() => {});
      if (latest) await load({ StartTime: latest - WINDOW_SECONDS, EndTime: latest }).catch(() => {});
    })();
    const timer = setInterval(() => void load({}).catch(() => {}), REFRESH_SECONDS * 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [uhostId, running]);
  return charts;
}

/** A series' values in time order. */
export const values = (s: Series): number[] => [...s.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
