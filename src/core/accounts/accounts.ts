import type { Clock } from "../../domain/clock.js";
import { ApiError, badParam } from "../../domain/errors.js";
import type { IdGen } from "../../domain/ids.js";
import { newKeyPair } from "../../domain/ids.js";
import type { AccountRecord, KeyOrigin, KeyPairRecord, ProjectRecord } from "../../domain/records.js";
import type { Store } from "../../store/store.js";
import type { SecretBox } from "../secrets.js";

/** Instance and GPU quota of the root (operator) account: not held to one. */
export const ROOT_QUOTA = 1_000_000;
/** Instance quota of a new account. */
const DEFAULT_INSTANCE_QUOTA = 100;
/**
 * How long a resolved key is trusted before the store is asked again: a key or account disabled
 * by `ocs admin` (another process) stops working within this long on every replica.
 */
export const KEY_CACHE_TTL_MS = 5000;
/** A key's last-used time is written at most this often per replica (never per request). */
const TOUCH_EVERY_MS = 60_000;

/** An authenticated caller. */
export interface Principal {
  account: AccountRecord;
  publicKey: string;
}

/** A usable key: its private key (to check signatures) and its enabled account. */
export interface ResolvedKey {
  privateKey: string;
  accountId: string;
  account: AccountRecord;
}

export interface AccountOptions {
  /** GPU quota of a new account (OCS_DEFAULT_GPU_QUOTA). */
  defaultGpuQuota?: number;
}

/** What `ensureRoot` did, for the start-up banner and the audit log. */
export interface RootResult {
  account: AccountRecord;
  /** Set on the first start without configured keys: printed once, never stored in clear. */
  generated?: { publicKey: string; privateKey: string };
  /** Root keys the configured pair replaced (they stopped working at this start). */
  replaced: string[];
  /** The configured key exists but an operator disabled it (kept disabled). */
  configuredDisabled: boolean;
}

/**
 * Accounts own key pairs and projects; each account has one default project (`org-` + short id).
 * Private keys are sealed at rest; opened keys are cached in memory for a few seconds because
 * every request needs one. Disabled keys and the keys of disabled accounts resolve to nothing, so
 * they answer exactly like unknown keys.
 */
export class AccountService {
  private readonly keyCache = new Map<string, { key: ResolvedKey; until: number }>();
  private readonly touched = new Map<string, number>();
  /** Projects found, by `id <projectId>` and `default <accountId>` (see resolveProject). */
  private readonly projects = new Map<string, ProjectRecord>();

  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly ids: IdGen,
    private readonly opts: AccountOptions = {},
  ) {}

  async createAccount(
    name: string,
    opts: {
      isRoot?: boolean;
      keyPair?: { publicKey: string; privateKey: string };
      keyOrigin?: KeyOrigin;
      instanceQuota?: number;
      gpuQuota?: number;
    } = {},
  ): Promise<{
    account: AccountRecord;
    project: ProjectRecord;
    keyPair: { publicKey: string; privateKey: string };
  }> {
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
      throw badParam("Name", "an account name is 1-64 characters of letters, digits, _ . @ -");
    }
    const now = this.clock.now();
    const account: AccountRecord = {
      id: this.ids.next("acc", 10),
      number: 0,
      name,
      isRoot: opts.isRoot ?? false,
      instanceQuota: opts.instanceQuota ?? DEFAULT_INSTANCE_QUOTA,
      gpuQuota: opts.gpuQuota ?? this.opts.defaultGpuQuota ?? 8,
      disabledAt: null,
      createdAt: now,
    };
    const keys = opts.keyPair ?? newKeyPair();
    const project: ProjectRecord = {
      id: this.ids.next("org", 6),
      accountId: account.id,
      name: "Default",
      isDefault: true,
      createdAt: now,
    };
    await this.store.tx(async (tx) => {
      if (await tx.accounts.accountByName(name)) throw badParam("Name", `account ${name} already exists`);
      account.number = await tx.accounts.insertAccount(account);
      await tx.accounts.insertProject(project);
      await tx.accounts.insertKeyPair(this.keyRecord(keys, account.id, opts.keyOrigin ?? "admin", now));
    });
    return { account, project, keyPair: keys };
  }

  private keyRecord(
    keys: { publicKey: string; privateKey: string },
    accountId: string,
    origin: KeyOrigin,
    now: number,
  ): KeyPairRecord {
    return {
      publicKey: keys.publicKey,
      accountId,
      privateKeySealed: this.secrets.seal(keys.privateKey),
      origin,
      createdAt: now,
      disabledAt: null,
      lastUsedAt: null,
    };
  }

  async createKeyPair(accountId: string): Promise<{ publicKey: string; privateKey: string }> {
    const keys = newKeyPair();
    await this.store.tx(async (tx) => {
      if (!(await tx.accounts.accountById(accountId))) throw badParam("AccountId", `no account ${accountId}`);
      await tx.accounts.insertKeyPair(this.keyRecord(keys, accountId, "admin", this.clock.now()));
    });
    return keys;
  }

  async createProject(accountId: string, name: string): Promise<ProjectRecord> {
    const project: ProjectRecord = {
      id: this.ids.next("org", 6),
      accountId,
      name,
      isDefault: false,
      createdAt: this.clock.now(),
    };
    await this.store.tx(async (tx) => {
      if (!(await tx.accounts.accountById(accountId))) throw badParam("AccountId", `no account ${accountId}`);
      await tx.accounts.insertProject(project);
    });
    return project;
  }

  /**
   * Makes sure the root account exists. With configured root keys (as MinIO's root credentials)
   * that pair is the root account's and replaces the root key the environment gave before (a
   * previously configured or generated one); keys made with `ocs admin` stay. Without configured
   * keys a pair is generated once and returned for printing.
   */
  async ensureRoot(configured?: { publicKey: string; privateKey: string }): Promise<RootResult> {
    const existing = await this.store.accounts.rootAccount();
    if (!existing) {
      const created = await this.createAccount("root", {
        isRoot: true,
        keyPair: configured,
        keyOrigin: configured ? "config" : "generated",
        instanceQuota: ROOT_QUOTA,
        gpuQuota: ROOT_QUOTA,
      });
      return {
        account: created.account,
        generated: configured ? undefined : created.keyPair,
        replaced: [],
        configuredDisabled: false,
      };
    }
    if (!configured) return { account: existing, replaced: [], configuredDisabled: false };
    const result = await this.store.tx(async (tx) => {
      const kp = await tx.accounts.keyPair(configured.publicKey);
      if (kp && kp.accountId !== existing.id)
        throw new Error("OCS_ROOT_PUBLIC_KEY belongs to another account");
      const sealed = this.secrets.seal(configured.privateKey);
      if (kp) await tx.accounts.updatePrivateKey(configured.publicKey, sealed, "config");
      else
        await tx.accounts.insertKeyPair({
          ...this.keyRecord(configured, existing.id, "config", this.clock.now()),
          privateKeySealed: sealed,
        });
      const replaced: string[] = [];
      for (const k of await tx.accounts.keyPairsOf(existing.id)) {
        if (k.publicKey === configured.publicKey || k.origin === "admin") continue;
        await tx.accounts.deleteKeyPair(k.publicKey);
        replaced.push(k.publicKey);
      }
      return { replaced, configuredDisabled: kp?.disabledAt != null };
    });
    for (const k of [configured.publicKey, ...result.replaced]) this.keyCache.delete(k);
    return { account: existing, ...result };
  }

  /**
   * The private key and enabled account of a usable public key, or undefined for an unknown or
   * disabled key or a disabled account (so all three answer alike). Cached for a few seconds.
   */
  async resolveKey(publicKey: string): Promise<ResolvedKey | undefined> {
    const now = performance.now();
    const cached = this.keyCache.get(publicKey);
    if (cached && cached.until > now) return cached.key;
    const kp: KeyPairRecord | undefined = await this.store.accounts.keyPair(publicKey);
    if (!kp || kp.disabledAt !== null) return this.forget(publicKey);
    const account = await this.store.accounts.accountById(kp.accountId);
    if (!account || account.disabledAt !== null) return this.forget(publicKey);
    const key = { privateKey: this.secrets.open(kp.privateKeySealed), accountId: kp.accountId, account };
    if (this.keyCache.size > 10_000) this.keyCache.clear();
    this.keyCache.set(publicKey, { key, until: now + KEY_CACHE_TTL_MS });
    return key;
  }

  private forget(publicKey: string): undefined {
    this.keyCache.delete(publicKey);
    return undefined;
  }

  /**
   * Records a successful use of a key: at most once a minute per key on this replica, so the
   * store sees no write per request. Returns the write, or undefined when none was due.
   */
  touchKey(publicKey: string): Promise<void> | undefined {
    const now = performance.now();
    const last = this.touched.get(publicKey);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return undefined;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(publicKey, now);
    return this.store.accounts.touchKey(publicKey, this.clock.now());
  }

  async account(id: string): Promise<AccountRecord | undefined> {
    return this.store.accounts.accountById(id);
  }

  /**
   * The project a request acts in: the given one if the account owns it, else its default. Found
   * projects are kept: a project is never changed or removed, and an account's default is made
   * with it, so a kept one cannot go stale (one query less per request; a miss is never kept).
   */
  async resolveProject(accountId: string, projectId: string | undefined): Promise<ProjectRecord> {
    const key = projectId ? `id ${projectId}` : `default ${accountId}`;
    const kept = this.projects.get(key);
    if (kept && kept.accountId === accountId) return kept;
    if (projectId) {
      const p = await this.store.accounts.project(projectId);
      if (!p || p.accountId !== accountId) throw new ApiError("ProjectNotExists", { projectId });
      return this.keep(key, p);
    }
    const all = await this.store.accounts.projectsOf(accountId);
    const p = all.find((x) => x.isDefault);
    if (p) return this.keep(key, p);
    if (!all[0]) throw new ApiError("ProjectNotExists", { projectId: "(default)" });
    return all[0];
  }

  private keep(key: string, p: ProjectRecord): ProjectRecord {
    if (this.projects.size >= 10_000) this.projects.clear();
    this.projects.set(key, p);
    return p;
  }

  listAccounts(): Promise<AccountRecord[]> {
    return this.store.accounts.listAccounts();
  }
  projectsOf(accountId: string): Promise<ProjectRecord[]> {
    return this.store.accounts.projectsOf(accountId);
  }
  keyPairsOf(accountId: string): Promise<KeyPairRecord[]> {
    return this.store.accounts.keyPairsOf(accountId);
  }
  accountByName(name: string): Promise<AccountRecord | undefined> {
    return this.store.accounts.accountByName(name);
  }

  /** Forgets cached keys (emulator reset). */
  clearCache(): void {
    this.keyCache.clear();
  }

  // ------------------------------------------------------------------ lifecycle (ocs admin)

  /** Disables a key: it answers like an unknown key. The last usable root key cannot be. */
  async disableKey(publicKey: string): Promise<KeyPairRecord> {
    return this.changeKey(publicKey, "disable");
  }

  async enableKey(publicKey: string): Promise<KeyPairRecord> {
    return this.changeKey(publicKey, "enable");
  }

  /** Deletes a key for good. The last usable root key cannot be. */
  async deleteKey(publicKey: string): Promise<KeyPairRecord> {
    return this.changeKey(publicKey, "delete");
  }

  private async changeKey(
    publicKey: string,
    change: "disable" | "enable" | "delete",
  ): Promise<KeyPairRecord> {
    const kp = await this.store.tx(async (tx) => {
      const found = await tx.accounts.keyPair(publicKey);
      if (!found) throw badParam("TargetPublicKey", `key ${publicKey} not found`);
      const owner = await tx.accounts.lockAccount(found.accountId);
      if (change !== "enable" && owner?.isRoot && found.disabledAt === null) {
        const usable = (await tx.accounts.keyPairsOf(found.accountId)).filter((k) => k.disabledAt === null);
        if (usable.length <= 1)
          throw badParam(
            "TargetPublicKey",
            `key ${publicKey} is the last usable root key; create another one first (ocs admin key create root)`,
          );
      }
      if (change === "delete") await tx.accounts.deleteKeyPair(publicKey);
      else await tx.accounts.setKeyDisabled(publicKey, change === "disable" ? this.clock.now() : null);
      return found;
    });
    this.keyCache.delete(publicKey);
    return kp;
  }

  /** Disables an account: all its keys answer like unknown keys; its instances keep running. */
  async setAccountDisabled(id: string, disabled: boolean): Promise<void> {
    await this.store.tx(async (tx) => {
      const a = await tx.accounts.lockAccount(id);
      if (!a) throw badParam("AccountId", `account ${id} not found`);
      if (a.isRoot && disabled) throw badParam("AccountId", "the root account cannot be disabled");
      await tx.accounts.setAccountDisabled(id, disabled ? this.clock.now() : null);
    });
    this.keyCache.clear();
  }

  /** Sets an account's instance and/or GPU quota. */
  async setQuotas(id: string, quotas: { instances?: number; gpus?: number }): Promise<void> {
    for (const [k, v] of Object.entries(quotas))
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 0))
        throw badParam(k === "gpus" ? "GpuQuota" : "InstanceQuota", `${k} quota must be a whole number ≥ 0`);
    if ((await this.store.accounts.setQuotas(id, quotas)) === 0)
      throw badParam("AccountId", `account ${id} not found`);
    this.keyCache.clear();
  }
}
