import type { AccountRecord, KeyPairRecord, ProjectRecord } from "../domain/records.js";
import type { Db, Row } from "./db.js";

const account = (r: Row): AccountRecord => ({
  id: String(r.id),
  number: Number(r.number),
  name: String(r.name),
  isRoot: Number(r.is_root) === 1,
  instanceQuota: Number(r.instance_quota),
  createdAt: Number(r.created_at),
});

const project = (r: Row): ProjectRecord => ({
  id: String(r.id),
  accountId: String(r.account_id),
  name: String(r.name),
  isDefault: Number(r.is_default) === 1,
  createdAt: Number(r.created_at),
});

const keyPair = (r: Row): KeyPairRecord => ({
  publicKey: String(r.public_key),
  accountId: String(r.account_id),
  privateKeySealed: String(r.private_key_sealed),
  createdAt: Number(r.created_at),
});

/** Accounts, key pairs and projects: the only place their SQL lives. */
export class AccountsRepo {
  constructor(private readonly db: Db) {}

  /**
   * Inserts an account and returns the number it was given: the next after the highest (a unique
   * index refuses a duplicate from a concurrent insert, as it does a duplicate name).
   */
  async insertAccount(a: Omit<AccountRecord, "number">): Promise<number> {
    const rows = await this.db.all(
      `INSERT INTO accounts (id, name, is_root, instance_quota, created_at, number)
       VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(number), 10000000) + 1 FROM accounts)) RETURNING number`,
      [a.id, a.name, a.isRoot ? 1 : 0, a.instanceQuota, a.createdAt],
    );
    return Number(rows[0]?.number);
  }
  async accountById(id: string): Promise<AccountRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM accounts WHERE id = ?", [id]);
    return rows[0] ? account(rows[0]) : undefined;
  }
  async accountByName(name: string): Promise<AccountRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM accounts WHERE name = ?", [name]);
    return rows[0] ? account(rows[0]) : undefined;
  }
  async rootAccount(): Promise<AccountRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM accounts WHERE is_root = 1");
    return rows[0] ? account(rows[0]) : undefined;
  }
  async listAccounts(): Promise<AccountRecord[]> {
    return (await this.db.all("SELECT * FROM accounts ORDER BY created_at, id")).map(account);
  }
  async insertKeyPair(k: KeyPairRecord): Promise<void> {
    await this.db.run(
      "INSERT INTO key_pairs (public_key, account_id, private_key_sealed, created_at) VALUES (?, ?, ?, ?)",
      [k.publicKey, k.accountId, k.privateKeySealed, k.createdAt],
    );
  }
  async keyPair(publicKey: string): Promise<KeyPairRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM key_pairs WHERE public_key = ?", [publicKey]);
    return rows[0] ? keyPair(rows[0]) : undefined;
  }
  async keyPairsOf(accountId: string): Promise<KeyPairRecord[]> {
    return (
      await this.db.all("SELECT * FROM key_pairs WHERE account_id = ? ORDER BY created_at", [accountId])
    ).map(keyPair);
  }
  async deleteKeyPair(publicKey: string): Promise<number> {
    return this.db.run("DELETE FROM key_pairs WHERE public_key = ?", [publicKey]);
  }
  async insertProject(p: ProjectRecord): Promise<void> {
    await this.db.run(
      "INSERT INTO projects (id, account_id, name, is_default, created_at) VALUES (?, ?, ?, ?, ?)",
      [p.id, p.accountId, p.name, p.isDefault ? 1 : 0, p.createdAt],
    );
  }
  async project(id: string): Promise<ProjectRecord | undefined> {
    const rows = await this.db.all("SELECT * FROM projects WHERE id = ?", [id]);
    return rows[0] ? project(rows[0]) : undefined;
  }
  async projectsOf(accountId: string): Promise<ProjectRecord[]> {
    return (
      await this.db.all(
        "SELECT * FROM projects WHERE account_id = ? ORDER BY is_default DESC, created_at, id",
        [accountId],
      )
    ).map(project);
  }
}
