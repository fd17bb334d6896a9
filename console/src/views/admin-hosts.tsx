import { useMemo, useState } from "preact/hooks";
import { ErrorBox, StateBadge, useAsync } from "../components/ui.js";
import type { Answer } from "../lib/api.js";
import { gb } from "../lib/format.js";
import { t, useLang } from "../lib/i18n.js";
import { batcher, useLiveEvents } from "../lib/live.js";
import { href } from "../lib/router.js";
import { api } from "../lib/session.js";

/**
 * The operator's GPU map: every host, each GPU as a cell showing the instance and account that hold
 * it (or free), and the instances sitting on the host without a GPU. Follows the event stream.
 */
export function Hosts() {
  useLang();
  const hosts = useAsync(async () => (await api().call("AdminDescribeHosts")).HostSet as Answer[], []);
  const [zone, setZone] = useState("");
  const [inUse, setInUse] = useState(false);
  const all = hosts.data ?? [];
  const zones = [...new Set(all.map((h) => h.Zone as string))].sort();
  const shown = all.filter(
    (h) =>
      (!zone || h.Zone === zone) &&
      (!inUse || h.GpusFree < h.GpuCount || (h.ResidentSet as Answer[]).length > 0),
  );
  const gpus = shown.reduce((n, h) => n + h.GpuCount, 0);
  const free = shown.reduce((n, h) => n + h.GpusFree, 0);
  useLiveEvents(
    useMemo(
      () =>
        batcher(200, () => {
          void hosts.reload();
        }),
      [hosts.reload],
    ),
  );
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("hostsTitle")}</h1>
        <span class="legend">
          <span class="gpu free" aria-hidden="true" /> {t("legendFree")}{" "}
          <span class="gpu held" aria-hidden="true" /> {t("legendHeld")}
        </span>
      </div>
      <div class="filters">
        <label>
          {t("filterZone")}
          <select value={zone} onChange={(e) => setZone(e.currentTarget.value)}>
            <option value="">{t("allZones")}</option>
            {zones.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" checked={inUse} onChange={(e) => setInUse(e.currentTarget.checked)} />{" "}
          {t("hostsInUse")}
        </label>
        <output class="muted" data-testid="gpu-summary">
          {t("gpuSummary", { hosts: shown.length, gpus, held: gpus - free, free })}
        </output>
      </div>
      <ErrorBox error={hosts.error} onRetry={hosts.reload} />
      <div class="hosts">
        {shown.map((h) => (
          <section class="host panel" key={h.HostId} aria-label={h.HostId} data-host={h.HostId}>
            <header>
              <h2>
                {h.HostId} {h.Retired && <span class="tag">{t("retired")}</span>}
              </h2>
              <span class="muted">
                {h.Zone} · {h.GpuType} · {h.GpusFree}/{h.GpuCount} {t("free")} ·{" "}
                {t("cpuUsed", { used: h.CpuUsed, total: h.Cpu })} ·{" "}
                {t("memUsed", { used: gb(h.MemoryUsed), total: gb(h.Memory) })}
              </span>
            </header>
            <ol class="gpus">
              {(h.GpuSet as Answer[]).map((g) => (
                <li
                  key={g.Index}
                  class={`gpu ${g.UHostId ? "held" : "free"}`}
                  data-gpu={g.Index}
                  data-holder={g.UHostId || undefined}
                >
                  <span class="idx">GPU {g.Index}</span>
                  {g.UHostId ? (
                    <>
                      <a href={href(`instances/${g.UHostId}`)} title={g.UHostId}>
                        {g.Name}
                      </a>
                      <span class="acct">{g.AccountName}</span>
                      <StateBadge state={g.State} />
                    </>
                  ) : (
                    <span class="muted">{t("free")}</span>
                  )}
                </li>
              ))}
            </ol>
            {(h.ResidentSet as Answer[]).length > 0 && (
              <div class="residents">
                <h3>{t("residents")}</h3>
                <ul>
                  {(h.ResidentSet as Answer[]).map((r) => (
                    <li key={r.UHostId} data-resident={r.UHostId}>
                      <code>{r.UHostId}</code> {r.Name} · {r.AccountName} ·{" "}
                      {r.WithoutGpu && r.HoldsCompute ? t("residentNoGpu") : t("residentStopped")}{" "}
                      <StateBadge state={r.State} />
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </section>
        ))}
      </div>
    </div>
  );
}
