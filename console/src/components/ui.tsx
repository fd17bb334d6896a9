import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { errorText } from "../lib/api.js";
import { stateLabel, t } from "../lib/i18n.js";

/** Data loaded by `load`, reloaded by `reload()` or when `deps` change. */
export function useAsync<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean; reload: () => Promise<void> } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const seq = useRef(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the load depends on.
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === seq.current) setState({ data, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** An API error, with its RetCode, in a live region so screen readers announce it. */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const { retCode, message } = errorText(error);
  return (
    <div class="error" role="alert">
      <strong>{t("error")}</strong>
      {retCode !== -1 && <span class="code">{t("retCode", { code: retCode })}</span>}
      <span class="msg">{message}</span>
      {onRetry && (
        <button type="button" class="link" onClick={onRetry}>
          {t("retry")}
        </button>
      )}
    </div>
  );
}

const STATE_CLASS: Record<string, string> = {
  Running: "ok",
  Stopped: "off",
  "Install Fail": "bad",
};

/** An instance state, coloured (and spinning while in transition). */
export function StateBadge({ state }: { state: string }) {
  const cls = STATE_CLASS[state] ?? "busy";
  return (
    <span class={`state ${cls}`} data-state={state}>
      {stateLabel(state)}
    </span>
  );
}

/** Copies `text` to the clipboard; says so for a moment. */
export function CopyButton({ text, label }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Without clipboard access (plain http on another host), select the text for Ctrl+C instead.
      const range = document.createRange();
      const el = document.querySelector(`[data-copy="${CSS.escape(text)}"]`);
      if (el) {
        range.selectNodeContents(el);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return (
    <button type="button" class="small" onClick={copy} aria-label={label ?? t("copy")}>
      {done ? t("copied") : t("copy")}
    </button>
  );
}

/**
 * A modal dialog on the native <dialog>: focus moves into it, Escape closes it, and focus goes back
 * to what opened it.
 */
export function Dialog({
  title,
  onClose,
  children,
}: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} onClose={onClose} aria-label={title}>
      <h2>{title}</h2>
      {children}
    </dialog>
  );
}

/** A labelled form field. */
export function Field({
  label,
  hint,
  children,
}: { label: string; hint?: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is passed in as a child, inside the label.
    <label class="field">
      <span class="label">{label}</span>
      {children}
      {hint && <span class="hint">{hint}</span>}
    </label>
  );
}

/** A sparkline of values in 0–100 (percent), drawn as SVG. */
export function Spark({ values, label }: { values: number[]; label: string }) {
  const w = 240;
  const h = 48;
  const points = values.map((v, i) => {
    const x = values.length < 2 ? w : (i / (values.length - 1)) * w;
    const y = h - (Math.max(0, Math.min(100, v)) / 100) * (h - 2) - 1;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const last = values.at(-1);
  return (
    <figure class="spark">
      <figcaption>
        {label} <strong>{last === undefined ? "–" : `${last.toFixed(1)}%`}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img" aria-label={`${label} ${last ?? ""}%`}>
        <title>{label}</title>
        <rect x="0" y="0" width={w} height={h} class="bg" />
        {points.length > 0 && <polyline points={points.join(" ")} />}
      </svg>
    </figure>
  );
}

/** A titled panel of a page. */
export function Panel({
  title,
  children,
  actions,
}: { title: string; children: ComponentChildren; actions?: JSX.Element }) {
  return (
    <section class="panel" aria-label={title}>
      <header>
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** A table's header row. */
export function Head({ cols }: { cols: string[] }) {
  return (
    <thead>
      <tr>
        {cols.map((c) => (
          <th scope="col" key={c}>
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** An instance id linking to its page. */
export function InstanceLink({ id }: { id: string }) {
  return (
    <a href={`#/instances/${encodeURIComponent(id)}`}>
      <code>{id}</code>
    </a>
  );
}

/** A form's Cancel and Confirm (submit) buttons. */
export function FormButtons({
  onCancel,
  danger,
  disabled,
}: { onCancel: () => void; danger?: boolean; disabled?: boolean }) {
  return (
    <div class="buttons">
      <button type="button" onClick={onCancel}>
        {t("cancel")}
      </button>
      <button type="submit" class={danger ? "danger" : "primary"} disabled={disabled}>
        {t("confirm")}
      </button>
    </div>
  );
}

/** Asks before something that cannot be undone. */
export function Confirm({
  title,
  text,
  onCancel,
  onConfirm,
}: { title: string; text: string; onCancel: () => void; onConfirm: () => void }) {
  return (
    <Dialog title={title} onClose={onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onConfirm();
        }}
      >
        <p>{text}</p>
        <FormButtons onCancel={onCancel} danger />
      </form>
    </Dialog>
  );
}
