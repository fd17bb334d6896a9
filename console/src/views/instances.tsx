import { useEffect, useMemo, useState } from "preact/hooks";
import { ErrorBox, Head, InstanceLink, StateBadge, useAsync } from "../components/ui.js";
import type { Answer } from "../lib/api.js";
import { errorText } from "../lib/api.js";
import { gb, relative, time } from "../lib/format.js";
import { chargeLabel, stateLabel, t, useLang } from "../lib/i18n.js";
import { batcher, useLiveEvents } from "../lib/live.js";
import { href, navigate } from "../lib/router.js";
import { api } from "../lib/session.js";

const SIZES = [20, 50, 100];

/** The filters and page, kept in the URL so a reload or a shared link shows the same list. */
interface ListQuery {
  page: number;
  size: number;
  zone: string;
  gpu: string;
  tag: string;
  ids: string;
  q: string;
}

function readQuery(q: URLSearchParams): ListQuery {
  const num = (k: string, d: number) => Math.max(0, Number.parseInt(q.get(k) ?? "", 10) || d);
  return {
    page: num("page", 1),
    size: SIZES.includes(num("size", 50)) ? num("size", 50) : 50,
    zone: q.get("zone") ?? "",
    gpu: q.get("gpu") ?? "",
    tag: q.get("tag") ?? "",
    ids: q.get("ids") ?? "",
    q: q.get("q") ?? "",
  };
}

/**
 * The project's instances: paged on the server (thousands), filtered by what Describe filters on
 * (zone, with or without GPU, tag, ids), and live: each event re-reads the instances it names.
 */
export function InstanceList({ query }: { query: URLSearchParams }) {
  useLang();
  const f = readQuery(query);
  const go = (patch: Partial<ListQuery>) => {
    const next = { ...f, ...patch };
    navigate("instances", {
      ...next,
      page: next.page === 1 ? undefined : next.page,
      size: next.size === 50 ? undefined : next.size,
    });
  };
  const zones = useAsync(
    async () => (await api().call("DescribeCompShareSupportZone")).ZoneInfo as Answer[],
    [],
  );
  const list = useAsync(async () => {
    const params = {
      Limit: f.size,
      Offset: (f.page - 1) * f.size,
      Zone: f.zone || undefined,
      Tag: f.tag || undefined,
      WithoutGpu: f.gpu === "without" ? true : f.gpu === "with" ? false : undefined,
      UHostIds: f.ids ? f.ids.split(/[\s,]+/).filter(Boolean) : undefined,
    };
    try {
      return await api().call("DescribeCompShareInstance", params);
    } catch (e) {
      // The list shrank under this page (Offset past the total is an error, per the docs): go to page 1.
      if (errorText(e).retCode === 230 && f.page > 1) go({ page: 1 });
      throw e;
    }
  }, [f.page, f.size, f.zone, f.gpu, f.tag, f.ids]);
  const [patched, setPatched] = useState<Map<string, Answer>>(new Map());
  // A fresh page replaces what events patched into the old one.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when a new page arrives.
  useEffect(() => setPatched(new Map()), [list.data]);
  const rows = useMemo(() => {
    const base = (list.data?.UHostSet ?? []) as Answer[];
    return base.map((u) => patched.get(u.UHostId) ?? u);
  }, [list.data, patched]);

  // Live: re-read the instances events name (one Describe per burst), or the page when one appears or goes.
  useLiveEvents(
    useMemo(
      () =>
        batcher(150, async (ids, reload) => {
          if (reload) {
            setPatched(new Map());
            await list.reload();
            return;
          }
          const shown = ((list.data?.UHostSet ?? []) as Answer[]).map((u) => u.UHostId as string);
          const wanted = shown.filter((id) => ids.has(id));
          if (wanted.length === 0) return;
          const r = await api().call("DescribeCompShareInstance", { UHostIds: wanted, Limit: 100 });
          setPatched((old) => {
            const next = new Map(old);
            for (const u of r.UHostSet as Answer[]) next.set(u.UHostId, u);
            return next;
          });
        }),
      [list.data, list.reload],
    ),
  );

  const total = Number(list.data?.TotalCount ?? 0);
  const pages = Math.max(1, Math.ceil(total / f.size));
  const needle = f.q.toLowerCase();
  const visible = needle
    ? rows.filter((u) =>
        [u.Name, u.UHostId, u.State, stateLabel(u.State)].some((v) =>
          String(v).toLowerCase().includes(needle),
        ),
      )
    : rows;
  const from = total === 0 ? 0 : (f.page - 1) * f.size + 1;
  const to = Math.min(total, f.page * f.size);

  const submit = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    go({
      page: 1,
      zone: String(data.get("zone") ?? ""),
      gpu: String(data.get("gpu") ?? ""),
      tag: String(data.get("tag") ?? "").trim(),
      ids: String(data.get("ids") ?? "").trim(),
    });
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("instances")}</h1>
        <span class="muted">{list.data ? t("total", { n: total }) : t("loading")}</span>
        <a class="button primary" href={href("create")}>
          {t("navCreate")}
        </a>
      </div>
      <form
        class="filters"
        onSubmit={submit}
        aria-label="filters"
        key={`${f.zone}|${f.gpu}|${f.tag}|${f.ids}|${zones.data?.length ?? 0}`}
      >
        <label>
          {t("filterZone")}
          <select name="zone" defaultValue={f.zone}>
            <option value="">{t("allZones")}</option>
            {(zones.data ?? []).map((z) => (
              <option value={z.Zone} key={z.Zone}>
                {z.Zone}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("filterGpu")}
          <select name="gpu" defaultValue={f.gpu}>
            <option value="">{t("anyGpu")}</option>
            <option value="with">{t("withGpuOnly")}</option>
            <option value="without">{t("withoutGpuOnly")}</option>
          </select>
        </label>
        <label>
          {t("filterTag")}
          <input name="tag" defaultValue={f.tag} size={10} />
        </label>
        <label class="grow">
          {t("filterIds")}
          <input name="ids" defaultValue={f.ids} />
        </label>
        <button type="submit">{t("apply")}</button>
        <button type="button" onClick={() => navigate("instances")}>
          {t("clear")}
        </button>
      </form>
      <ErrorBox error={list.error} onRetry={list.reload} />
      <div class="list-tools">
        <label>
          {t("filterPage")}
          <input
            type="search"
            value={f.q}
            onInput={(e) => go({ q: e.currentTarget.value })}
            aria-label={t("filterPage")}
          />
        </label>
        <Pager page={f.page} pages={pages} onPage={(page) => go({ page })} />
        <span class="muted">{t("showing", { from, to, total })}</span>
        <label>
          {t("pageSize")}
          <select value={f.size} onChange={(e) => go({ page: 1, size: Number(e.currentTarget.value) })}>
            {SIZES.map((n) => (
              <option value={n} key={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
      {list.data && visible.length === 0 ? (
        <p class="empty">{t("noInstances")}</p>
      ) : (
        <div class="table-wrap">
          <table class="instances">
            <Head
              cols={[
                t("colId"),
                t("colName"),
                t("colState"),
                t("colGpu"),
                t("colCpuMem"),
                t("colCharge"),
                t("colCreated"),
                t("colStop"),
              ]}
            />
            <tbody>
              {visible.map((u) => (
                <tr key={u.UHostId} data-id={u.UHostId}>
                  <td data-label={t("colId")}>
                    <InstanceLink id={u.UHostId} />
                  </td>
                  <td data-label={t("colName")}>{u.Name}</td>
                  <td data-label={t("colState")}>
                    <StateBadge state={u.State} />
                  </td>
                  <td data-label={t("colGpu")}>
                    {u.GPU ? `${u.GPU} × ${u.GpuType}` : `${u.GpuType} (${t("noGpu")})`}
                  </td>
                  <td data-label={t("colCpuMem")}>
                    {u.CPU} / {gb(u.Memory)} GB
                  </td>
                  <td data-label={t("colCharge")}>{chargeLabel(u.ChargeType)}</td>
                  <td data-label={t("colCreated")}>
                    <time title={relative(u.CreateTime)}>{time(u.CreateTime)}</time>
                  </td>
                  <td data-label={t("colStop")}>
                    {u.StopTime ? `${time(u.StopTime)} (${relative(u.StopTime)})` : "-"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

/** First / previous / page n of m / next / last. */
export function Pager({ page, pages, onPage }: { page: number; pages: number; onPage: (p: number) => void }) {
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" disabled={page <= 1} onClick={() => onPage(1)}>
        {t("first")}
      </button>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t("prev")}
      </button>
      <span aria-current="page">
        {page} / {pages}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        {t("next")}
      </button>
      <button type="button" disabled={page >= pages} onClick={() => onPage(pages)}>
        {t("last")}
      </button>
    </nav>
  );
}
