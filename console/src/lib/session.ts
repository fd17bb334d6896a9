import type { Credentials } from "./api.js";
import { Api } from "./api.js";
import { Observable } from "./store.js";

/** A signed-in tab: its credentials and what the server said about them at sign-in. */
export interface Session extends Credentials {
  accountLabel: string;
  isRoot: boolean;
  projectName: string;
}

// sessionStorage, not localStorage: the private key stays in this tab and goes with it.
const KEY = "ocs.console.session";

function load(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

export const session = new Observable<Session | undefined>(load());

export function signIn(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
  session.set(s);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  session.set(undefined);
}

let cached: { s: Session; api: Api } | undefined;

/** The signed client of the current session. */
export function api(): Api {
  const s = session.get();
  if (!s) throw new Error("not signed in");
  if (cached?.s !== s) cached = { s, api: new Api(s) };
  return cached.api;
}
