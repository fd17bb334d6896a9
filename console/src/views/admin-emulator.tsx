import { useState } from "preact/hooks";
import { Confirm, ErrorBox, Field, Panel, useAsync } from "../components/ui.js";
import type { Answer, ParamValue } from "../lib/api.js";
import { errorText } from "../lib/api.js";
import { time } from "../lib/format.js";
import { t, useLang } from "../lib/i18n.js";
import { api } from "../lib/session.js";

const OPS = ["create", "start", "stop", "reboot", "reinstall", "destroy"];

/** The sim driver's controls: clock, latency, faults, reset (EmulatorStatus shows where it stands). */
export function Emulator() {
  useLang();
  const status = useAsync(async () => api().call("EmulatorStatus"), []);
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState("");
  const [confirmReset, setConfirmReset] = useState(false);
  const run = async (action: string, params: Record<string, ParamValue> = {}) => {
    setError(undefined);
    try {
      await api().call(action, params);
      setNotice(t("accepted", { action }));
      await status.reload();
    } catch (e) {
      setError(e);
    }
  };
  const form = (action: string, read: (d: FormData) => Record<string, ParamValue>) => (e: Event) => {
    e.preventDefault();
    void run(action, read(new FormData(e.currentTarget as HTMLFormElement)));
  };
  if (status.error && errorText(status.error).retCode === 299)
    return (
      <div class="page">
        <h1>{t("emulatorTitle")}</h1>
        <p class="empty">{t("emulatorOnlySim")}</p>
      </div>
    );
  const s = status.data as Answer | undefined;
  const offset = Number(s?.OffsetSeconds ?? 0);
  return (
    <div class="page">
      <h1>{t("emulatorTitle")}</h1>
      {notice && <output class="notice">{notice}</output>}
      <ErrorBox error={error ?? status.error} onRetry={status.reload} />
      <div class="grid">
        <Panel title={t("clock")}>
          <p data-testid="clock">
            {t("clockOffset", { now: time(Number(s?.Now ?? 0)), offset: `${offset}s` })}
          </p>
          <form
            class="row"
            onSubmit={form("EmulatorAdvanceClock", (d) => ({ Seconds: Number(d.get("seconds")) }))}
          >
            <Field label={`${t("advance")} (${t("seconds")})`}>
              <input name="seconds" type="number" min={0} required defaultValue="3600" />
            </Field>
            <button type="submit">{t("advance")}</button>
          </form>
        </Panel>
        <Panel title={t("latency")}>
          <form
            class="row"
            onSubmit={form("EmulatorSetLatency", (d) => ({ Milliseconds: Number(d.get("ms")) }))}
          >
            <Field label={t("latency")}>
              <input name="ms" type="number" min={0} required defaultValue={String(s?.LatencyMs ?? 0)} />
            </Field>
            <button type="submit">{t("setLatency")}</button>
          </form>
        </Panel>
        <Panel title={t("faults")}>
          <form
            onSubmit={form("EmulatorInjectFault", (d) => {
              const target = String(d.get("target"));
              const common = {
                Target: target,
                Message: String(d.get("message")),
                Count: Number(d.get("count")) || undefined,
              };
              return target === "Api"
                ? { ...common, FaultAction: String(d.get("faultAction")), RetCode: Number(d.get("retCode")) }
                : { ...common, Operation: String(d.get("operation")) };
            })}
          >
            <Field label={t("faultTarget")}>
              <select name="target">
                <option value="Driver">Driver</option>
                <option value="Api">Api</option>
              </select>
            </Field>
            <Field label={t("faultOperation")}>
              <select name="operation">
                {OPS.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            </Field>
            <Field label={t("faultAction")}>
              <input name="faultAction" placeholder="StopCompShareInstance" />
            </Field>
            <Field label={t("faultRetCode")}>
              <input name="retCode" type="number" min={1} placeholder="8040" />
            </Field>
            <Field label={t("faultMessage")}>
              <input name="message" required defaultValue="injected by the console" />
            </Field>
            <Field label={t("faultCount")}>
              <input name="count" type="number" min={1} defaultValue="1" />
            </Field>
            <div class="buttons">
              <button type="submit">{t("injectFault")}</button>
              <button type="button" onClick={() => run("EmulatorClearFaults")}>
                {t("clearFaults")}
              </button>
            </div>
          </form>
          <pre class="json">{JSON.stringify(s?.ApiFaults ?? [], null, 1)}</pre>
        </Panel>
        <Panel title={t("driverCalls")}>
          <pre class="json">{JSON.stringify(s?.DriverCalls ?? {}, null, 1)}</pre>
          <button type="button" class="danger" onClick={() => setConfirmReset(true)}>
            {t("reset")}
          </button>
        </Panel>
      </div>
      {confirmReset && (
        <Confirm
          title={t("reset")}
          text={t("resetWarn")}
          onCancel={() => setConfirmReset(false)}
          onConfirm={() => {
            setConfirmReset(false);
            void run("EmulatorReset");
          }}
        />
      )}
    </div>
  );
}
