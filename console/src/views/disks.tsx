import { useMemo, useState } from "preact/hooks";
import { Dialog, ErrorBox, Field, FormButtons, Head, InstanceLink, useAsync } from "../components/ui.js";
import type { Answer, ParamValue } from "../lib/api.js";
import { time } from "../lib/format.js";
import { chargeLabel, t, useLang } from "../lib/i18n.js";
import { batcher, useLiveEvents } from "../lib/live.js";
import { api } from "../lib/session.js";

type Asking = { kind: "attach" | "grow" | "delete"; disk: Answer };

/**
 * The project's data disks, attached and detached (kept from a terminated instance, or detached):
 * a detached disk can be attached to an instance of its zone, grown or deleted; an attached one is
 * managed from its instance's page. Follows the event stream.
 */
export function Disks() {
  useLang();
  const disks = useAsync(async () => (await api().call("DescribeCompshareDisk")).DiskSet as Answer[], []);
  const [asking, setAsking] = useState<Asking | undefined>();
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState("");
  useLiveEvents(useMemo(() => batcher(200, () => void disks.reload()), [disks.reload]));
  const run = async (action: string, params: Record<string, ParamValue>) => {
    setError(undefined);
    try {
      await api().call(action, params);
      setAsking(undefined);
      setNotice(t("accepted", { action }));
      await disks.reload();
    } catch (e) {
      setError(e);
    }
  };
  const rows = disks.data ?? [];
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("disksTitle")}</h1>
        <span class="muted">{t("disksHint")}</span>
      </div>
      {notice && <output class="notice">{notice}</output>}
      <ErrorBox error={!asking && (error ?? disks.error)} onRetry={disks.reload} />
      {disks.data && rows.length === 0 ? (
        <p class="empty">{t("noDisks")}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <Head
              cols={[
                t("colId"),
                t("colName"),
                t("diskSize"),
                "Type",
                t("colState"),
                t("attachedTo"),
                t("zone"),
                t("colCharge"),
                t("created"),
                t("actions"),
              ]}
            />
            <tbody>
              {rows.map((d) => {
                const detached = d.Status === "Available";
                return (
                  <tr key={d.UDiskId} data-disk={d.UDiskId}>
                    <td>
                      <code>{d.UDiskId}</code>
                    </td>
                    <td>{d.Name}</td>
                    <td>{d.Size}</td>
                    <td>{d.DiskType}</td>
                    <td>
                      <span class={`state ${detached ? "off" : d.Status === "InUse" ? "ok" : "busy"}`}>
                        {d.Status}
                      </span>
                    </td>
                    <td>{d.MountInstance ? <InstanceLink id={d.MountInstance} /> : "-"}</td>
                    <td>{d.Zone}</td>
                    <td>{chargeLabel(d.ChargeType)}</td>
                    <td>{time(d.CreateTime)}</td>
                    <td class="buttons-cell">
                      {detached ? (
                        <>
                          <button
                            type="button"
                            class="small"
                            onClick={() => setAsking({ kind: "attach", disk: d })}
                          >
                            {t("attachDisk")}
                          </button>
                          <button
                            type="button"
                            class="small"
                            onClick={() => setAsking({ kind: "grow", disk: d })}
                          >
                            {t("grow")}
                          </button>
                          <button
                            type="button"
                            class="small"
                            onClick={() => setAsking({ kind: "delete", disk: d })}
                          >
                            {t("deleteKey")}
                          </button>
                        </>
                      ) : (
                        <span class="why">{t("manageOnInstance")}</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {asking && (
        <DiskDialog asking={asking} error={error} onCancel={() => setAsking(undefined)} onSubmit={run} />
      )}
    </div>
  );
}

function DiskDialog({
  asking,
  error,
  onCancel,
  onSubmit,
}: {
  asking: Asking;
  error: unknown;
  onCancel: () => void;
  onSubmit: (action: string, params: Record<string, ParamValue>) => void;
}) {
  const d = asking.disk;
  const instances = useAsync(
    async () =>
      asking.kind === "attach"
        ? ((await api().call("DescribeCompShareInstance", { Zone: d.Zone, Limit: 100 })).UHostSet as Answer[])
        : [],
    [asking.kind, d.Zone],
  );
  const titles = { attach: t("attachDisk"), grow: t("grow"), delete: t("deleteKey") };
  const submit = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    if (asking.kind === "attach")
      onSubmit("AttachCompshareDisk", {
        Zone: d.Zone,
        UDiskId: d.UDiskId,
        UHostId: String(f.get("instance")),
      });
    if (asking.kind === "grow")
      onSubmit("ResizeCompShareDisk", { Zone: d.Zone, UDiskId: d.UDiskId, Size: Number(f.get("size")) });
    if (asking.kind === "delete") onSubmit("DeleteCompshareDisk", { Zone: d.Zone, UDiskId: d.UDiskId });
  };
  return (
    <Dialog title={`${titles[asking.kind]} ${d.UDiskId}`} onClose={onCancel}>
      <form onSubmit={submit}>
        {asking.kind === "attach" && (
          <Field label={t("attachTo")} hint={t("attachRule")}>
            <select name="instance" required>
              {(instances.data ?? []).map((u) => (
                <option key={u.UHostId} value={u.UHostId}>
                  {u.Name} ({u.UHostId}, {u.State})
                </option>
              ))}
            </select>
          </Field>
        )}
        {asking.kind === "grow" && (
          <Field label={t("diskSize")} hint={t("growOnly", { size: d.Size })}>
            <input
              name="size"
              type="number"
              required
              min={Number(d.Size) + 1}
              defaultValue={String(Number(d.Size) + 50)}
            />
          </Field>
        )}
        {asking.kind === "delete" && <p class="warn">{t("deleteDiskWarn", { disk: d.UDiskId })}</p>}
        <ErrorBox error={error} />
        <FormButtons onCancel={onCancel} danger={asking.kind === "delete"} />
      </form>
    </Dialog>
  );
}
