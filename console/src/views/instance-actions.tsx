import { useState } from "preact/hooks";
import { Dialog, ErrorBox, Field, FormButtons, useAsync } from "../components/ui.js";
import type { Answer, ParamValue } from "../lib/api.js";
import { b64, gb, toLocalInput } from "../lib/format.js";
import type { Key } from "../lib/i18n.js";
import { t } from "../lib/i18n.js";
import { api } from "../lib/session.js";

/** One rule of DescribeCompShareInstanceActions. */
export interface Rule {
  Action: string;
  Variant: string;
  Allowed: boolean;
  RetCode: number;
  Message: string;
}

type DialogKind = "reinstall" | "resize" | "rename" | "password" | "schedule" | "terminate" | "image";

/** How each Action (and variant) is offered: its label, what it does, and the dialog it needs. */
const OFFERS: Array<{
  action: string;
  variant?: string;
  label: Key;
  dialog?: DialogKind;
  params?: Record<string, ParamValue>;
  note?: (u: Answer) => string;
  when?: (u: Answer) => boolean;
}> = [
  { action: "StartCompShareInstance", label: "actStart" },
  {
    action: "StartCompShareInstance",
    variant: "WithoutGpu",
    label: "actStartWithoutGpu",
    params: { WithoutGpu: true },
    note: (u) =>
      t("ruleStartWithoutGpu", { cpu: u.WithoutGpuSpec?.Cpu ?? "?", mem: gb(u.WithoutGpuSpec?.Memory ?? 0) }),
  },
  { action: "StopCompShareInstance", label: "actStop", note: () => t("ruleStop"), when: (u) => !u.IsSpot },
  {
    action: "StopCompShareInstance",
    variant: "Force",
    label: "actForceStop",
    params: { Force: true },
    note: () => t("ruleForce"),
    when: (u) => u.IsSpot,
  },
  { action: "RebootCompShareInstance", label: "actReboot" },
  {
    action: "ReinstallCompShareInstance",
    label: "actReinstall",
    dialog: "reinstall",
    note: () => t("reinstallWarn"),
  },
  { action: "ResizeCompShareInstance", label: "actResize", dialog: "resize" },
  { action: "ModifyCompShareInstanceName", label: "actRename", dialog: "rename" },
  { action: "ResetCompShareInstancePassword", label: "actResetPassword", dialog: "password" },
  { action: "UpdateCompShareStopScheduler", label: "actSchedule", dialog: "schedule" },
  { action: "DeleteCompShareStopScheduler", label: "actCancelSchedule", when: (u) => Boolean(u.StopTime) },
  {
    action: "CreateCompShareCustomImage",
    label: "actMakeImage",
    dialog: "image",
    note: () => t("makeImageRule"),
  },
  {
    action: "TerminateCompShareInstance",
    label: "actTerminate",
    dialog: "terminate",
    note: () => t("ruleTerminate"),
  },
];

/**
 * Every action on the instance with its rule, before the click: an allowed one says what it will do,
 * a refused one is disabled with the server's reason (the same message the call would get).
 */
export function ActionsPanel({
  inst,
  rules,
  onDone,
}: { inst: Answer; rules: Rule[]; onDone: (message: string) => void }) {
  const [open, setOpen] = useState<{ kind: DialogKind; action: string } | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState("");
  const rule = (action: string, variant = "") =>
    rules.find((r) => r.Action === action && r.Variant === variant);

  const run = async (action: string, params: Record<string, ParamValue> = {}, label = action) => {
    setBusy(action);
    setError(undefined);
    try {
      await api().call(action, { Zone: inst.Zone, UHostId: inst.UHostId, ...params });
      setOpen(undefined);
      onDone(t("accepted", { action: label }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy("");
    }
  };

  return (
    <div class="actions">
      <ErrorBox error={!open && error} />
      <ul>
        {OFFERS.filter((o) => !o.when || o.when(inst)).map((o) => {
          const r = rule(o.action, o.variant);
          if (!r) return null;
          const id = `why-${o.action}-${o.variant ?? ""}`;
          const label = t(o.label);
          return (
            <li key={id} class={r.Allowed ? "allowed" : "refused"}>
              <button
                type="button"
                disabled={!r.Allowed || busy !== ""}
                aria-describedby={id}
                onClick={() =>
                  o.dialog ? setOpen({ kind: o.dialog, action: o.action }) : run(o.action, o.params, label)
                }
              >
                {label}
              </button>
              <span id={id} class="why">
                {r.Allowed ? (o.note?.(inst) ?? t("allowed")) : r.Message}
              </span>
            </li>
          );
        })}
      </ul>
      {open && (
        <ActionDialog
          kind={open.kind}
          inst={inst}
          error={error}
          busy={busy !== ""}
          onCancel={() => {
            setOpen(undefined);
            setError(undefined);
          }}
          onSubmit={(params) =>
            run(open.action, params, t(OFFERS.find((o) => o.action === open.action)?.label ?? "confirm"))
          }
        />
      )}
    </div>
  );
}

function ActionDialog({
  kind,
  inst,
  error,
  busy,
  onCancel,
  onSubmit,
}: {
  kind: DialogKind;
  inst: Answer;
  error: unknown;
  busy: boolean;
  onCancel: () => void;
  onSubmit: (params: Record<string, ParamValue>) => void;
}) {
  const titles: Record<DialogKind, Key> = {
    reinstall: "actReinstall",
    resize: "actResize",
    rename: "actRename",
    password: "actResetPassword",
    schedule: "actSchedule",
    terminate: "actTerminate",
    image: "actMakeImage",
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const d = new FormData(e.currentTarget as HTMLFormElement);
    const v = (k: string) => String(d.get(k) ?? "");
    if (kind === "rename") onSubmit({ Name: v("name") });
    if (kind === "image") onSubmit({ Name: v("name"), Description: v("description") || undefined });
    if (kind === "password") onSubmit({ Password: b64(v("password")) });
    if (kind === "schedule") onSubmit({ StopTime: Math.floor(new Date(v("at")).getTime() / 1000) });
    if (kind === "terminate") onSubmit({ ReleaseUDisk: d.get("release") === "on" });
    if (kind === "reinstall")
      onSubmit({ CompShareImageId: v("image"), Password: v("password") ? b64(v("password")) : undefined });
    if (kind === "resize") {
      const [what, a, b, c] = v("spec").split(":");
      if (what === "disk") onSubmit({ DiskId: a, DiskSpace: Number(v("diskSize")) });
      else onSubmit({ Gpu: Number(a), Cpu: Number(b), Memory: Number(c) });
    }
  };
  return (
    <Dialog title={t(titles[kind])} onClose={onCancel}>
      <form onSubmit={submit} method="dialog">
        {kind === "rename" && (
          <Field label={t("newName")} hint={t("nameRule")}>
            <input name="name" required maxLength={63} defaultValue={inst.Name} />
          </Field>
        )}
        {kind === "image" && (
          <>
            <Field label={t("name")} hint={t("nameRule")}>
              <input name="name" required maxLength={63} defaultValue={`${inst.Name}-image`} />
            </Field>
            <Field label={`${t("description")} (${t("optional")})`}>
              <input name="description" maxLength={255} />
            </Field>
          </>
        )}
        {kind === "password" && (
          <Field label={t("newPassword")} hint={t("passwordRule")}>
            <input name="password" type="password" required autoComplete="new-password" />
          </Field>
        )}
        {kind === "schedule" && (
          <Field label={t("stopAt")} hint={t("stopAtRule", { now: new Date().toLocaleString() })}>
            <input
              name="at"
              type="datetime-local"
              required
              defaultValue={toLocalInput(inst.StopTime || Math.floor(Date.now() / 1000) + 3600)}
            />
          </Field>
        )}
        {kind === "terminate" && (
          <>
            <p>{t("terminateWarn", { id: inst.UHostId, hours: 72 })}</p>
            <label class="check">
              <input type="checkbox" name="release" /> {t("releaseDisks")}
            </label>
          </>
        )}
        {kind === "reinstall" && <ReinstallFields />}
        {kind === "resize" && <ResizeFields inst={inst} />}
        <ErrorBox error={error} />
        <FormButtons onCancel={onCancel} danger={kind === "terminate"} disabled={busy} />
      </form>
    </Dialog>
  );
}

function ReinstallFields() {
  const images = useAsync(
    async () => (await api().call("DescribeCompShareImages", { Limit: 100 })).ImageSet as Answer[],
    [],
  );
  return (
    <>
      <p class="warn">{t("reinstallWarn")}</p>
      <Field label={t("image")}>
        <select name="image" required>
          {(images.data ?? []).map((i) => (
            <option value={i.CompShareImageId} key={i.CompShareImageId}>
              {i.Name} ({i.CompShareImageId})
            </option>
          ))}
        </select>
      </Field>
      <Field label={t("passwordOptional")} hint={t("keepPassword")}>
        <input name="password" type="password" autoComplete="new-password" />
      </Field>
    </>
  );
}

function ResizeFields({ inst }: { inst: Answer }) {
  const types = useAsync(
    async () =>
      (await api().call("DescribeAvailableCompShareInstanceTypes", { Zone: inst.Zone }))
        .AvailableInstanceTypes as Answer[],
    [inst.Zone],
  );
  const type = (types.data ?? []).find((x) => x.Name === inst.GpuType);
  const specs: Array<[number, number, number]> = [];
  for (const size of (type?.MachineSizes ?? []) as Answer[])
    for (const c of size.Collection as Answer[])
      for (const m of c.Memory as number[]) specs.push([size.Gpu, c.Cpu, m * 1024]);
  const [choice, setChoice] = useState("");
  return (
    <>
      <Field label={t("resizeSpec")}>
        <select name="spec" required value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
          <option value="" disabled>
            …
          </option>
          {specs.map(([g, c, m]) => (
            <option value={`spec:${g}:${c}:${m}`} key={`${g}-${c}-${m}`}>
              {t("gpusCpuMem", { gpu: g, cpu: c, mem: gb(m) })}
            </option>
          ))}
          {(inst.DiskSet as Answer[]).map((d) => (
            <option value={`disk:${d.DiskId}`} key={d.DiskId}>
              {t("resizeDisk")}: {d.DiskId} ({d.Size} GB)
            </option>
          ))}
        </select>
      </Field>
      {choice.startsWith("disk:") && (
        <Field label={t("diskSize")}>
          <input name="diskSize" type="number" required min={1} />
        </Field>
      )}
    </>
  );
}
