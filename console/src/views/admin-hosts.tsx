import { useMemo } from "preact/hooks";
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
      <ErrorBox error={hosts.error} onRetry={hosts.reload} />
      <div class="hosts">
        {(hosts.data ?? []).map((h) => (
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
