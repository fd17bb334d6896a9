import { useState } from "preact/hooks";
import { Field } from "../components/ui.js";
import { Api, errorText } from "../lib/api.js";
import { t, useLang } from "../lib/i18n.js";
import { signIn } from "../lib/session.js";

/** What a sign-in failure means, in words a user can act on. */
function explain(e: unknown): string {
  const { retCode, message } = errorText(e);
  if (retCode === 172) return `${t("errUnknownKey")} (RetCode 172)`;
  if (retCode === 171) return `${t("errBadSignature")} (RetCode 171)`;
  if (retCode === 292) return `${t("errProject")} (RetCode 292: ${message})`;
  return retCode === -1 ? message : `RetCode ${retCode}: ${message}`;
}

/** Sign in with a key pair (and a project): checked against the server before the session starts. */
export function SignIn() {
  useLang();
  const [publicKey, setPublicKey] = useState("");
  const [privateKey, setPrivateKey] = useState("");
  const [projectId, setProjectId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    const creds = {
      publicKey: publicKey.trim(),
      privateKey: privateKey.trim(),
      projectId: projectId.trim() || undefined,
      region: "",
    };
    try {
      const probe = new Api(creds);
      const projects = await probe.call("GetProjectList");
      const set = projects.ProjectSet as Array<{
        ProjectId: string;
        ProjectName: string;
        IsDefault: boolean;
      }>;
      const project =
        set.find((p) => p.ProjectId === creds.projectId) ?? set.find((p) => p.IsDefault) ?? set[0];
      const regions = (await probe.call("GetRegion")).Regions as Array<{
        Region: string;
        IsDefault: boolean;
      }>;
      const region = regions.find((r) => r.IsDefault)?.Region ?? regions[0]?.Region ?? "cn-wlcb";
      let isRoot = false;
      let accountLabel = `${creds.publicKey.slice(0, 10)}…`;
      try {
        await probe.call("AdminDescribeAccounts");
        isRoot = true;
        accountLabel = "root";
      } catch (err) {
        if (errorText(err).retCode !== 299) throw err;
      }
      signIn({
        ...creds,
        region,
        projectId: project?.ProjectId,
        projectName: project?.ProjectName ?? "",
        isRoot,
        accountLabel,
      });
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">{t("signInTitle")}</h1>
        <p class="hint">{t("signInHint")}</p>
        <Field label={t("publicKey")}>
          <input
            name="publicKey"
            autoComplete="username"
            required
            value={publicKey}
            onInput={(e) => setPublicKey(e.currentTarget.value)}
          />
        </Field>
        <Field label={t("privateKey")}>
          <input
            name="privateKey"
            type="password"
            autoComplete="current-password"
            required
            value={privateKey}
            onInput={(e) => setPrivateKey(e.currentTarget.value)}
          />
        </Field>
        <Field label={t("projectOptional")}>
          <input name="projectId" value={projectId} onInput={(e) => setProjectId(e.currentTarget.value)} />
        </Field>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("signingIn") : t("signIn")}
        </button>
      </form>
    </main>
  );
}
