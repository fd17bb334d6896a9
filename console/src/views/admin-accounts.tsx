import { useState } from "preact/hooks";
import { Confirm, Dialog, ErrorBox, Field, FormButtons, Panel, useAsync } from "../components/ui.js";
import type { Answer, ParamValue } from "../lib/api.js";
import { relative, time } from "../lib/format.js";
import { t, useLang } from "../lib/i18n.js";
import { api } from "../lib/session.js";

/** A private key just made: shown once, in a dialog that says so. */
function KeyShown({ made, onClose }: { made: Answer; onClose: () => void }) {
  return (
    <Dialog title={t("newKey")} onClose={onClose}>
      <p class="warn">{t("keyShownOnce")}</p>
      <dl class="facts">
        <dt>{t("publicKey")}</dt>
        <dd>
          <code data-testid="new-public-key">{made.PublicKey}</code>
        </dd>
        <dt>{t("privateKey")}</dt>
        <dd>
          <code data-testid="new-private-key">{made.PrivateKey}</code>
        </dd>
        {made.ProjectId && (
          <>
            <dt>{t("project")}</dt>
            <dd>
              <code>{made.ProjectId}</code>
            </dd>
          </>
        )}
      </dl>
      <div class="buttons">
        <button type="button" class="primary" onClick={onClose}>
          {t("done")}
        </button>
      </div>
    </Dialog>
  );
}

/** The operator's accounts page: every account with its projects and public keys; create all three. */
export function Accounts() {
  useLang();
  const list = useAsync(async () => (await api().call("AdminDescribeAccounts")).AccountSet as Answer[], []);
  const [made, setMade] = useState<Answer | undefined>();
  const [asking, setAsking] = useState<
    { kind: "account" | "project" | "quotas"; accountId?: string; account?: Answer } | undefined
  >();
  const [deleting, setDeleting] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const call = async (action: string, params: Record<string, ParamValue>) => {
    setError(undefined);
    try {
      const r = await api().call(action, params);
      if (r.PrivateKey) setMade(r);
      setAsking(undefined);
      await list.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="page">
      <div class="page-head">
        <h1>{t("accountsTitle")}</h1>
        <button type="button" class="primary" onClick={() => setAsking({ kind: "account" })}>
          {t("newAccount")}
        </button>
      </div>
      <ErrorBox error={!asking && (error ?? list.error)} onRetry={list.reload} />
      {(list.data ?? []).map((a) => (
        <Panel
          key={a.AccountId}
          title={`${a.Name}${a.IsRoot ? ` · ${t("root")}` : ""}`}
          actions={
            <span class="buttons">
              <button
                type="button"
                class="small"
                onClick={() => call("AdminCreateKeyPair", { AccountId: a.AccountId })}
              >
                {t("newKey")}
              </button>
              <button
                type="button"
                class="small"
                onClick={() => setAsking({ kind: "project", accountId: a.AccountId })}
              >
                {t("newProject")}
              </button>
              <button type="button" class="small" onClick={() => setAsking({ kind: "quotas", account: a })}>
                {t("quotas")}
              </button>
              {/* The root account cannot be disabled (the server says so too). */}
              {!a.IsRoot && (
                <button
                  type="button"
                  class="small"
                  onClick={() =>
                    call("AdminUpdateAccount", { AccountId: a.AccountId, Disabled: !a.Disabled })
                  }
                >
                  {a.Disabled ? t("enableAccount") : t("disableAccount")}
                </button>
              )}
            </span>
          }
        >
          <p class="muted">
            <code>{a.AccountId}</code> {a.Disabled && <span class="tag bad">{t("disabled")}</span>} ·{" "}
            {t("instancesCount")} {a.InstanceCount} / {t("quota")} {a.InstanceQuota} · {t("gpuQuota")}{" "}
            {a.GpuQuota} · {t("created")} {time(a.CreateTime)}
          </p>
          <div class="two">
            <div>
              <h3>{t("projects")}</h3>
              <ul>
                {(a.ProjectSet as Answer[]).map((p) => (
                  <li key={p.ProjectId}>
                    {p.ProjectName} <code>{p.ProjectId}</code>{" "}
                    {p.IsDefault && <span class="tag">{t("isDefault")}</span>} · {p.ResourceCount}
                  </li>
                ))}
              </ul>
            </div>
            <div>
              <h3>{t("keys")}</h3>
              <ul>
                {(a.KeySet as Answer[]).map((k) => (
                  <li key={k.PublicKey} class="key" data-key={k.PublicKey}>
                    <code>{k.PublicKey}</code> {k.Disabled && <span class="tag bad">{t("disabled")}</span>}{" "}
                    <span class="muted">
                      {k.Origin} · {time(k.CreateTime)} ·{" "}
                      {k.LastUsedTime ? t("lastUsed", { when: relative(k.LastUsedTime) }) : t("neverUsed")}
                    </span>{" "}
                    <button
                      type="button"
                      class="small"
                      onClick={() =>
                        call("AdminUpdateKeyPair", {
                          TargetPublicKey: k.PublicKey,
                          Operation: k.Disabled ? "Enable" : "Disable",
                        })
                      }
                    >
                      {k.Disabled ? t("enable") : t("disable")}
                    </button>{" "}
                    <button type="button" class="small" onClick={() => setDeleting(k.PublicKey)}>
                      {t("deleteKey")}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          </div>
        </Panel>
      ))}
      {asking && (
        <Dialog
          title={
            asking.kind === "account"
              ? t("newAccount")
              : asking.kind === "quotas"
                ? t("quotas")
                : t("newProject")
          }
          onClose={() => setAsking(undefined)}
        >
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const d = new FormData(e.currentTarget);
              if (asking.kind === "quotas")
                void call("AdminUpdateAccount", {
                  AccountId: asking.account?.AccountId,
                  InstanceQuota: Number(d.get("instances")),
                  GpuQuota: Number(d.get("gpus")),
                });
              else if (asking.kind === "account")
                void call("AdminCreateAccount", {
                  Name: String(d.get("name")),
                  InstanceQuota: d.get("quota") ? Number(d.get("quota")) : undefined,
                });
              else
                void call("AdminCreateProject", {
                  AccountId: asking.accountId,
                  ProjectName: String(d.get("name")),
                });
            }}
          >
            {asking.kind === "quotas" ? (
              <>
                <Field label={t("quota")}>
                  <input
                    name="instances"
                    type="number"
                    min={0}
                    required
                    defaultValue={String(asking.account?.InstanceQuota)}
                  />
                </Field>
                <Field label={t("gpuQuota")}>
                  <input
                    name="gpus"
                    type="number"
                    min={0}
                    required
                    defaultValue={String(asking.account?.GpuQuota)}
                  />
                </Field>
              </>
            ) : (
              <Field label={asking.kind === "account" ? t("accountName") : t("projectName")}>
                <input name="name" required maxLength={64} />
              </Field>
            )}
            {asking.kind === "account" && (
              <Field label={t("quota")}>
                <input name="quota" type="number" min={0} placeholder="100" />
              </Field>
            )}
            <ErrorBox error={error} />
            <FormButtons onCancel={() => setAsking(undefined)} />
          </form>
        </Dialog>
      )}
      {made && <KeyShown made={made} onClose={() => setMade(undefined)} />}
      {deleting && (
        <Confirm
          title={t("deleteKey")}
          text={t("deleteKeyWarn", { key: deleting })}
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => {
            setDeleting(undefined);
            void call("AdminUpdateKeyPair", { TargetPublicKey: deleting, Operation: "Delete" });
          }}
        />
      )}
    </div>
  );
}
