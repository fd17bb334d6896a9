import { useState } from "preact/hooks";
import { Dialog, ErrorBox, Field, FormButtons, Head, useAsync } from "../components/ui.js";
import type { Answer, ParamValue } from "../lib/api.js";
import { t } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import type { Rule } from "./instance-actions.js";

type Asking =
  | { kind: "new" }
  | { kind: "attach" }
  | { kind: "grow"; disk: Answer }
  | { kind: "detach"; disk: Answer };

/**
 * The instance's disks with what can be done to them, each with its rule before the click: add a new
 * data disk or attach a detached one (Running or Stopped), detach or grow one (Stopped).
 */
export function InstanceDisks({
  inst,
  rules,
  onDone,
}: { inst: Answer; rules: Rule[]; onDone: (m: string) => void }) {
  const [asking, setAsking] = useState<Asking | undefined>();
  const [error, setError] = useState<unknown>();
  const rule = (action: string) => rules.find((r) => r.Action === action);
  const run = async (action: string, params: Record<string, ParamValue>) => {
    setError(undefined);
    try {
      await api().call(action, { Zone: inst.Zone, UHostId: inst.UHostId, ...params });
      setAsking(undefined);
      onDone(t("accepted", { action }));
    } catch (e) {
      setError(e);
    }
  };
  const button = (action: string, label: string, open: () => void) => {
    const r = rule(action);
    return (
      <button
        type="button"
        class="small"
        disabled={!r?.Allowed}
        title={r?.Allowed ? "" : r?.Message}
        onClick={open}
      >
        {label}
      </button>
    );
  };
  const disks = inst.DiskSet as Answer[];
  const refusal = [rule("CreateAndAttachCompshareDisk"), rule("DetachCompshareDisk")].find(
    (r) => r && !r.Allowed,
  );
  return (
    <div class="instance-disks">
      <table>
        <Head cols={["ID", t("colName"), t("diskSize"), "Type", t("actions")]} />
        <tbody>
          {disks.map((d) => (
            <tr key={d.DiskId} data-disk={d.DiskId}>
              <td>
                <code>{d.DiskId}</code>
              </td>
              <td>
                {d.IsBoot === "True"
                  ? t("diskBoot")
                  : `${t("diskData")} ${d.Name && d.Name !== d.DiskId ? d.Name : ""}`}
              </td>
              <td>{d.Size}</td>
              <td>
                {d.DiskType} <span class="muted">{d.Drive}</span>
              </td>
              <td class="buttons-cell">
                {button(
                  d.IsBoot === "True" ? "ResizeCompShareInstance" : "ResizeCompShareDisk",
                  t("grow"),
                  () => setAsking({ kind: "grow", disk: d }),
                )}
                {d.IsBoot !== "True" &&
                  button("DetachCompshareDisk", t("detach"), () => setAsking({ kind: "detach", disk: d }))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="buttons left">
        {button("CreateAndAttachCompshareDisk", t("newDisk"), () => setAsking({ kind: "new" }))}
        {button("AttachCompshareDisk", t("attachDisk"), () => setAsking({ kind: "attach" }))}
      </p>
      {refusal && <p class="why">{refusal.Message}</p>}
      <ErrorBox error={!asking && error} />
      {asking && (
        <DiskDialog
          asking={asking}
          inst={inst}
          error={error}
          onCancel={() => {
            setAsking(undefined);
            setError(undefined);
          }}
          onSubmit={run}
        />
      )}
    </div>
  );
}

function DiskDialog({
  asking,
  inst,
  error,
  onCancel,
  onSubmit,
}: {
  asking: Asking;
  inst: Answer;
  error: unknown;
  onCancel: () => void;
  onSubmit: (action: string, params: Record<string, ParamValue>) => void;
}) {
  const detached = useAsync(
    async () =>
      asking.kind === "attach"
        ? ((await api().call("DescribeCompshareDisk")).DiskSet as Answer[]).filter(
            (d) => d.Status === "Available" && d.Zone === inst.Zone,
          )
        : [],
    [asking.kind],
  );
  const titles = { new: t("newDisk"), attach: t("attachDisk"), grow: t("grow"), detach: t("detach") };
  const submit = (e: Event) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget as HTMLFormElement);
    if (asking.kind === "new")
      onSubmit("CreateAndAttachCompshareDisk", {
        Name: String(d.get("name")),
        Size: Number(d.get("size")),
        ChargeType: inst.ChargeType === "Spot" ? "Dynamic" : inst.ChargeType,
      });
    if (asking.kind === "attach") onSubmit("AttachCompshareDisk", { UDiskId: String(d.get("disk")) });
    if (asking.kind === "detach") onSubmit("DetachCompshareDisk", { UDiskId: asking.disk.DiskId });
    if (asking.kind === "grow")
      onSubmit(
        asking.disk.IsBoot === "True" ? "ResizeCompShareInstance" : "ResizeCompShareDisk",
        asking.disk.IsBoot === "True"
          ? { DiskId: asking.disk.DiskId, DiskSpace: Number(d.get("size")) }
          : { UDiskId: asking.disk.DiskId, Size: Number(d.get("size")) },
      );
  };
  return (
    <Dialog title={titles[asking.kind]} onClose={onCancel}>
      <form onSubmit={submit}>
        {asking.kind === "new" && (
          <>
            <Field label={t("name")}>
              <input name="name" required maxLength={63} defaultValue="data" />
            </Field>
            <Field label={t("diskSize")}>
              <input name="size" type="number" required min={20} defaultValue="100" />
            </Field>
          </>
        )}
        {asking.kind === "attach" &&
          (detached.data && detached.data.length === 0 ? (
            <p class="muted">{t("noDetachedDisks")}</p>
          ) : (
            <Field label={t("disks")}>
              <select name="disk" required>
                {(detached.data ?? []).map((d) => (
                  <option key={d.UDiskId} value={d.UDiskId}>
                    {d.Name} ({d.UDiskId}, {d.Size} GB)
                  </option>
                ))}
              </select>
            </Field>
          ))}
        {asking.kind === "grow" && (
          <Field label={t("diskSize")} hint={t("growOnly", { size: asking.disk.Size })}>
            <input
              name="size"
              type="number"
              required
              min={Number(asking.disk.Size) + 1}
              defaultValue={String(Number(asking.disk.Size) + 50)}
            />
          </Field>
        )}
        {asking.kind === "detach" && <p>{t("detachWarn", { disk: asking.disk.DiskId })}</p>}
        <ErrorBox error={error} />
        <FormButtons onCancel={onCancel} />
      </form>
    </Dialog>
  );
}
