import { useMemo, useState } from "preact/hooks";
import { CopyButton, ErrorBox, Panel, Spark, StateBadge, useAsync } from "../components/ui.js";
import type { Answer } from "../lib/api.js";
import { errorText } from "../lib/api.js";
import { chargeUnit, gb, money, relative, time, unb64 } from "../lib/format.js";
import { chargeLabel, t, useLang } from "../lib/i18n.js";
import { batcher, isGap, useLiveEvents } from "../lib/live.js";
import { REFRESH_SECONDS, useMonitor, values } from "../lib/monitor.js";
import { href } from "../lib/router.js";
import { api } from "../lib/session.js";
import { eventText } from "./event-text.js";
import { ActionsPanel } from "./instance-actions.js";
import type { Rule } from "./instance-actions.js";
import { InstanceDisks } from "./instance-disks.js";

interface Loaded {
  inst?: Answer;
  recycled?: Answer;
  rules: Rule[];
  events: Answer[];
}

/**
 * One instance: its spec and price, access (SSH command, password), disks, software, monitor
 * charts, its event history, and every action with its rule; all of it follows the event stream.
 */
export function InstancePage({ id }: { id: string }) {
  useLang();
  const [notice, setNotice] = useState("");
  const page = useAsync(async (): Promise<Loaded> => {
    const a = api();
    const [described, rules, history] = await Promise.all([
      a.call("DescribeCompShareInstance", { UHostIds: [id] }),
      a.call("DescribeCompShareInstanceActions", { UHostId: id }).catch((e) => {
        if (errorText(e).retCode === 8039) return { ActionSet: [] };
        throw e;
      }),
      a.call("DescribeCompShareInstanceEvents", { UHostId: id, Limit: 50 }).catch(() => ({ EventSet: [] })),
    ]);
    const inst = (described.UHostSet as Answer[])[0];
    let recycled: Answer | undefined;
    if (!inst) {
      const bin = await a.call("DescribeCompShareRecycleInstance", { Limit: 100 });
      recycled = (bin.UHostSet as Answer[]).find((u) => u.UHostId === id);
    }
    return { inst, recycled, rules: rules.ActionSet as Rule[], events: history.EventSet as Answer[] };
  }, [id]);

  useLiveEvents(
    useMemo(
      () =>
        batcher(100, (ids, reload) => {
          if (reload || ids.has(id)) void page.reload();
        }),
      [id, page.reload],
    ),
  );

  const charts = useMonitor(id, page.data?.inst?.State === "Running");
  /** An action was accepted: say so, and read the instance again (its events will follow). */
  const done = (message: string) => {
    setNotice(message);
    void page.reload();
  };

  const data = page.data;
  if (!data)
    return (
      <div class="page">
        {page.error ? <ErrorBox error={page.error} onRetry={page.reload} /> : t("loading")}
      </div>
    );
  const u = data.inst;
  if (!u) {
    return (
      <div class="page">
        <p>
          <a href={href("instances")}>← {t("back")}</a>
        </p>
        {data.recycled ? (
          <RecycledView recycled={data.recycled} rules={data.rules} onDone={page.reload} />
        ) : (
          <p class="empty">{t("notFound", { id })}</p>
        )}
        <History events={data.events} />
      </div>
    );
  }
  return (
    <div class="page">
      <p>
        <a href={href("instances")}>← {t("back")}</a>
      </p>
      <div class="page-head">
        <h1>
          {u.Name} <code class="muted">{u.UHostId}</code>
        </h1>
        <StateBadge state={u.State} />
      </div>
      {notice && <output class="notice">{notice}</output>}
      <ErrorBox error={page.error} />
      <div class="grid">
        <Panel title={t("overview")}>
          <dl class="facts">
            <dt>{t("zone")}</dt>
            <dd>{u.Zone}</dd>
            <dt>{t("colGpu")}</dt>
            <dd>
              {u.GPU ? `${u.GPU} × ${u.GpuType}` : `${u.GpuType} (${t("noGpu")})`} ·{" "}
              {t("graphicsMemory", { gb: u.GraphicsMemory?.Value ?? 0 })}
            </dd>
            <dt>{t("colCpuMem")}</dt>
            <dd>
              {u.CPU} / {gb(u.Memory)} GB · {u.CpuPlatform}
            </dd>
            <dt>{t("image")}</dt>
            <dd>
              {u.CompShareImageName} <code>{u.CompShareImageId}</code>
            </dd>
            <dt>{t("chargeType")}</dt>
            <dd>{chargeLabel(u.ChargeType)}</dd>
            <dt>{t("price")}</dt>
            <dd>
              {money(u.InstancePrice + u.DiskPrice)} {t("perUnit", { unit: chargeUnit(u.ChargeType) })}{" "}
              <span class="muted">
                ({money(u.InstancePrice)} + {t("disks")} {money(u.DiskPrice)})
              </span>
            </dd>
            <dt>{t("created")}</dt>
            <dd>{time(u.CreateTime)}</dd>
            <dt>{t("started")}</dt>
            <dd>{time(u.StartTime)}</dd>
            <dt>{t("scheduledStop")}</dt>
            <dd data-testid="scheduled-stop">
              {u.StopTime ? `${time(u.StopTime)} (${relative(u.StopTime)})` : t("none")}
            </dd>
            {u.ReleaseTime > 0 && (
              <>
                <dt>{t("releaseAt")}</dt>
                <dd>{time(u.ReleaseTime)}</dd>
              </>
            )}
            {u.Remark && (
              <>
                <dt>{t("remark")}</dt>
                <dd class="remark">{u.Remark}</dd>
              </>
            )}
          </dl>
        </Panel>
        <Panel title={t("actions")}>
          <ActionsPanel inst={u} rules={data.rules} onDone={done} />
        </Panel>
        <Panel title={t("access")}>
          <Access inst={u} />
        </Panel>
        <Panel title={t("disks")}>
          <InstanceDisks inst={u} rules={data.rules} onDone={done} />
        </Panel>
        <Panel title={t("software")}>
          {(u.Softwares as Answer[]).length === 0 ? (
            <p class="muted">{t("noSoftware")}</p>
          ) : (
            <ul>
              {(u.Softwares as Answer[]).map((s) => (
                <li key={s.Name ?? s.URL}>
                  {s.Name}:{" "}
                  <a href={s.URL} target="_blank" rel="noreferrer noopener">
                    {s.URL}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </Panel>
        <Panel title={t("monitor")}>
          <p class="hint">{t("monitorHint", { s: REFRESH_SECONDS })}</p>
          <div class="sparks">
            <Spark label={t("gpuUsage")} values={values(charts.gpu)} />
            <Spark label={t("cpuUsage")} values={values(charts.cpu)} />
            <Spark label={t("memUsage")} values={values(charts.memory)} />
          </div>
        </Panel>
      </div>
      <History events={data.events} />
    </div>
  );
}

function Access({ inst }: { inst: Answer }) {
  const [shown, setShown] = useState(false);
  const password = unb64(inst.Password ?? "");
  return (
    <dl class="facts">
      <dt>{t("sshCommand")}</dt>
      <dd>
        {inst.SshLoginCommand ? (
          <>
            <code data-copy={inst.SshLoginCommand}>{inst.SshLoginCommand}</code>{" "}
            <CopyButton text={inst.SshLoginCommand} label={`${t("copy")} ${t("sshCommand")}`} />
          </>
        ) : (
          <span class="muted">{t("sshOnlyRunning")}</span>
        )}
      </dd>
      <dt>{t("password")}</dt>
      <dd>
        <code data-copy={password} data-testid="password">
          {shown ? password : "••••••••"}
        </code>{" "}
        <button type="button" class="small" onClick={() => setShown(!shown)} aria-pressed={shown}>
          {shown ? t("hide") : t("reveal")}
        </button>{" "}
        <CopyButton text={password} label={`${t("copy")} ${t("password")}`} />
      </dd>
    </dl>
  );
}

function RecycledView({ recycled, rules, onDone }: { recycled: Answer; rules: Rule[]; onDone: () => void }) {
  const [error, setError] = useState<unknown>();
  const recover = rules.find((r) => r.Action === "RecoverCompShareInstance");
  const run = async () => {
    try {
      await api().call("RecoverCompShareInstance", { UHostId: recycled.UHostId });
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Panel title={t("recycleTitle")}>
      <p>
        <strong>{recycled.Name}</strong> <code>{recycled.UHostId}</code> · {t("recycledAt")}{" "}
        {time(recycled.RecycleTime)} · {t("purgeAt")} {time(recycled.PurgeTime)}
      </p>
      <button
        type="button"
        class="primary"
        disabled={!recover?.Allowed}
        onClick={run}
        aria-describedby="recover-why"
      >
        {t("actRecover")}
      </button>{" "}
      <span id="recover-why" class="why">
        {recover?.Allowed ? t("allowed") : recover?.Message}
      </span>
      <ErrorBox error={error} />
    </Panel>
  );
}

function History({ events }: { events: Answer[] }) {
  return (
    <Panel title={t("history")}>
      {events.length === 0 ? (
        <p class="muted">{t("noHistory")}</p>
      ) : (
        <ol class="history" aria-live="polite">
          {events
            .filter((e) => !isGap(e as never))
            .map((e) => (
              <li key={e.Seq} data-kind={e.Kind}>
                <time>{time(e.Time)}</time> <span class="kind">{e.Kind}</span> {eventText(e)}
              </li>
            ))}
        </ol>
      )}
    </Panel>
  );
}
