import type { Clock } from "../../domain/clock.js";
import { ApiError, badParam } from "../../domain/errors.js";
import type { IdGen } from "../../domain/ids.js";
import { newKeyPair } from "../../domain/ids.js";
import type { AccountRecord, KeyPairRecord, ProjectRecord } from "../../domain/records.js";
import type { Store } from "../../store/store.js";
import type { SecretBox } from "../secrets.js";

/** Instance quota of the root (operator) account. */
export const ROOT_QUOTA = 1_000_000;

/** An authenticated caller. */
export interface Principal {
  account: AccountRecord;
  publicKey: string;
}

/**
 * Accounts own key pairs and projects; each account has one default project (`org-` + short id).
 * Private keys are sealed at rest; opened keys are cached in memory because every request needs one.
 */
export class AccountService {
  private readonly keyCache = new Map<string, { privateKey: string; accountId: string }>();

  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly ids: IdGen,
  ) {}

  async createAccount(
    name: string,
    opts: {
      isRoot?: boolean;
      keyPair?: { publicKey: string; privateKey: string };
      instanceQuota?: number;
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
      name,
      isRoot: opts.isRoot ?? false,
      instanceQuota: opts.instanceQuota ?? 100,
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
      await tx.accounts.insertAccount(account);
      await tx.accounts.insertProject(project);
      await tx.accounts.insertKeyPair({
        publicKey: keys.publicKey,
        accountId: account.id,
        privateKeySealed: this.secrets.seal(keys.privateKey),
        createdAt: now,
      });
    });
    return { account, project, keyPair: keys };
  }

  async createKeyPair(accountId: string): Promise<{ publicKey: string; privateKey: string }> {
    const keys = newKeyPair();
    await this.store.tx(async (tx) => {
      if (!(await tx.accounts.accountById(accountId))) throw badParam("AccountId", `no account ${accountId}`);
      await tx.accounts.insertKeyPair({
        publicKey: keys.publicKey,
        accountId,
        privateKeySealed: this.secrets.seal(keys.privateKey),
        createdAt: this.clock.now(),
      });
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
   * that pair is the root account's; without, a pair is generated once and returned for printing.
   */
  async ensureRoot(configured?: { publicKey: string; privateKey: string }): Promise<{
    account: AccountRecord;
    generated?: { publicKey: string; privateKey: string };
  }> {
    const existing = await this.store.accounts.rootAccount();
    if (!existing) {
      // The operator's own account is not held to a user's instance quota.
      const created = await this.createAccount("root", {
        isRoot: true,
        keyPair: configured,
        instanceQuota: ROOT_QUOTA,
      });
      return { account: created.account, generated: configured ? undefined : created.keyPair };
    }
    if (configured) {
      const kp = await this.store.accounts.keyPair(configured.publicKey);
      if (kp && kp.accountId !== existing.id) {
        throw new Error("OCS_ROOT_PUBLIC_KEY belongs to another account");
      }
      await this.store.tx(async (tx) => {
        await tx.accounts.deleteKeyPair(configured.publicKey);
        await tx.accounts.insertKeyPair({
          publicKey: configured.publicKey,
          accountId: existing.id,
          privateKeySealed: this.secrets.seal(configured.privateKey),
          createdAt: kp?.createdAt ?? this.clock.now(),
        });
      });
      this.keyCache.delete(configured.publicKey);
    }
    return { account: existing };
  }

  /** The private key and owner of a public key, or undefined for an unknown key. */
  async resolveKey(publicKey: string): Promise<{ privateKey: string; accountId: string } | undefined> {
    const cached = this.keyCache.get(publicKey);
    if (cached) return cached;
    const kp: KeyPairRecord | undefined = await this.store.accounts.keyPair(publicKey);
    if (!kp) return undefined;
    const entry = { privateKey: this.secrets.open(kp.privateKeySealed), accountId: kp.accountId };
    if (this.keyCache.size > 10_000) this.keyCache.clear();
    this.keyCache.set(publicKey, entry);
    return entry;
  }

  async account(id: string): Promise<AccountRecord | undefined> {
    return this.store.accounts.accountById(id);
  }

  /** The project a request acts in: the given one if the account owns it, else its default. */
  async resolveProject(accountId: string, projectId: string | undefined): Promise<ProjectRecord> {
    if (projectId) {
      const p = await this.store.accounts.project(projectId);
      if (!p || p.accountId !== accountId) throw new ApiError("ProjectNotExists", { projectId });
      return p;
    }
    const all = await this.store.accounts.projectsOf(accountId);
    const p = all.find((x) => x.isDefault) ?? all[0];
    if (!p) throw new ApiError("ProjectNotExists", { projectId: "(default)" });
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
}
