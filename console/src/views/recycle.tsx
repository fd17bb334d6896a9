import { useMemo, useState } from "preact/hooks";
import { ErrorBox, Head, InstanceLink, useAsync } from "../components/ui.js";
import type { Answer } from "../lib/api.js";
import { relative, time } from "../lib/format.js";
import { t, useLang } from "../lib/i18n.js";
import { batcher, useLiveEvents } from "../lib/live.js";
import { api } from "../lib/session.js";
import { Pager } from "./instances.js";

const SIZE = 50;

/** The project's recycle bin: terminated instances until their purge, each recoverable. */
export function Recycle() {
  useLang();
  const [page, setPage] = useState(1);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState("");
  const bin = useAsync(
    async () => api().call("DescribeCompShareRecycleInstance", { Limit: SIZE, Offset: (page - 1) * SIZE }),
    [page],
  );
  useLiveEvents(useMemo(() => batcher(200, () => void bin.reload()), [bin.reload]));
  const rows = (bin.data?.UHostSet ?? []) as Answer[];
  const total = Number(bin.data?.TotalCount ?? 0);
  const recover = async (id: string) => {
    setError(undefined);
    try {
      await api().call("RecoverCompShareInstance", { UHostId: id });
      setNotice(t("accepted", { action: `${t("actRecover")} ${id}` }));
      await bin.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="page">
      <h1>{t("recycleTitle")}</h1>
      {notice && <output class="notice">{notice}</output>}
      <ErrorBox error={error ?? bin.error} onRetry={bin.reload} />
      {bin.data && rows.length === 0 ? (
        <p class="empty">{t("recycleEmpty")}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <Head
              cols={[t("colId"), t("colName"), t("colGpu"), t("recycledAt"), t("purgeAt"), t("actions")]}
            />
            <tbody>
              {rows.map((u) => (
                <tr key={u.UHostId} data-id={u.UHostId}>
                  <td data-label={t("colId")}>
                    <InstanceLink id={u.UHostId} />
                  </td>
                  <td data-label={t("colName")}>{u.Name}</td>
                  <td data-label={t("colGpu")}>
                    {u.GPU} × {u.GpuType}
                  </td>
                  <td data-label={t("recycledAt")}>{time(u.RecycleTime)}</td>
                  <td data-label={t("purgeAt")}>
                    {time(u.PurgeTime)} ({relative(u.PurgeTime)})
                  </td>
                  <td>
                    <button type="button" onClick={() => recover(u.UHostId)}>
                      {t("actRecover")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > SIZE && <Pager page={page} pages={Math.ceil(total / SIZE)} onPage={setPage} />}
    </div>
  );
}
