import { useEffect } from "preact/hooks";
import { lang, setLang, t, useLang } from "./lib/i18n.js";
import { liveStatus, startLive } from "./lib/live.js";
import { href, useRoute } from "./lib/router.js";
import { api, session, signOut } from "./lib/session.js";
import { useObservable } from "./lib/store.js";
import { Accounts } from "./views/admin-accounts.js";
import { Emulator } from "./views/admin-emulator.js";
import { Hosts } from "./views/admin-hosts.js";
import { CreateWizard } from "./views/create.js";
import { Disks } from "./views/disks.js";
import { Images } from "./views/images.js";
import { InstancePage } from "./views/instance.js";
import { InstanceList } from "./views/instances.js";
import { Recycle } from "./views/recycle.js";
import { SignIn } from "./views/sign-in.js";

function LiveBadge() {
  const s = useObservable(liveStatus);
  const label =
    s.state === "live" ? t("live") : s.state === "reconnecting" ? t("reconnecting") : t("offline");
  return (
    <output class={`live ${s.state}`} title={s.why ?? ""}>
      <span class="dot" aria-hidden="true" />
      {label}
    </output>
  );
}

function LangToggle() {
  const l = useLang();
  return (
    <button
      type="button"
      class="small"
      onClick={() => setLang(l === "zh" ? "en" : "zh")}
      aria-label={t("languageSwitch")}
      lang={l === "zh" ? "en" : "zh-CN"}
    >
      {t("language")}
    </button>
  );
}

function Nav({ isRoot, at }: { isRoot: boolean; at: string }) {
  const item = (path: string, label: string) => (
    <li>
      <a href={href(path)} aria-current={at === path ? "page" : undefined}>
        {label}
      </a>
    </li>
  );
  return (
    <nav aria-label="main">
      <ul>
        {item("instances", t("navInstances"))}
        {item("create", t("navCreate"))}
        {item("images", t("navImages"))}
        {item("disks", t("navDisks"))}
        {item("recycle", t("navRecycle"))}
      </ul>
      {isRoot && (
        <>
          <p class="nav-group">{t("operator")}</p>
          <ul>
            {item("admin/accounts", t("navAccounts"))}
            {item("admin/hosts", t("navHosts"))}
            {item("admin/emulator", t("navEmulator"))}
          </ul>
        </>
      )}
    </nav>
  );
}

export function App() {
  useLang();
  const s = useObservable(session);
  const route = useRoute();
  useEffect(() => {
    document.documentElement.lang = lang.get() === "zh" ? "zh-CN" : "en";
  }, []);
  // One event stream for the tab while signed in; the operator follows every account.
  useEffect(() => (s ? startLive(api(), s.isRoot) : undefined), [s]);
  if (!s) return <SignIn />;
  const [first = "instances", second] = route.parts;
  const at = first === "admin" ? `admin/${second ?? ""}` : first;
  let view = <InstanceList query={route.query} />;
  if (first === "instances" && second) view = <InstancePage id={second} />;
  else if (first === "create") view = <CreateWizard query={route.query} />;
  else if (first === "images") view = <Images />;
  else if (first === "recycle") view = <Recycle />;
  else if (first === "disks") view = <Disks />;
  else if (s.isRoot && at === "admin/accounts") view = <Accounts />;
  else if (s.isRoot && at === "admin/hosts") view = <Hosts />;
  else if (s.isRoot && at === "admin/emulator") view = <Emulator />;
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href("instances")}>
          {t("appName")}
        </a>
        <span class="who">
          <span title={t("publicKey")}>{s.isRoot ? t("root") : `${t("publicKey")} ${s.accountLabel}`}</span>
          <span class="sep">·</span>
          <span title={t("project")}>
            {s.projectName} <code>{s.projectId}</code>
          </span>
          <span class="sep">·</span>
          <span title={t("region")}>{s.region}</span>
        </span>
        <LiveBadge />
        <LangToggle />
        <button type="button" class="small" onClick={signOut}>
          {t("signOut")}
        </button>
      </header>
      <Nav isRoot={s.isRoot} at={first === "instances" && second ? "" : at} />
      <main id="main" tabIndex={-1}>
        {view}
      </main>
    </div>
  );
}
