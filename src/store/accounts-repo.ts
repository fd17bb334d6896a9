import type { Db, Row } from "./db.js";

export interface AccountRecord {
  id: string;
  name: string;
  isRoot: boolean;
  instanceQuota: number;
  createdAt: number;
}

export interface ProjectRecord {
  id: string;
  accountId: string;
  name: string;
  isDefault: boolean;
  createdAt: number;
}

export interface KeyPairRecord {
  publicKey: string;
  accountId: string;
  privateKeySealed: string;
  createdAt: number;
}

const account = (r: Row): AccountRecord => ({
  id: String(r.id),
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
export const accountsRepo = {
  async insertAccount(db: Db, a: AccountRecord): Promise<void> {
    await db.run(
      "INSERT INTO accounts (id, name, is_root, instance_quota, created_at) VALUES (?, ?, ?, ?, ?)",
      [a.id, a.name, a.isRoot ? 1 : 0, a.instanceQuota, a.createdAt],
    );
  },
  async accountById(db: Db, id: string): Promise<AccountRecord | undefined> {
    const rows = await db.all("SELECT * FROM accounts WHERE id = ?", [id]);
    return rows[0] ? account(rows[0]) : undefined;
  },
  async accountByName(db: Db, name: string): Promise<AccountRecord | undefined> {
    const rows = await db.all("SELECT * FROM accounts WHERE name = ?", [name]);
    return rows[0] ? account(rows[0]) : undefined;
  },
  async rootAccount(db: Db): Promise<AccountRecord | undefined> {
    const rows = await db.all("SELECT * FROM accounts WHERE is_root = 1");
    return rows[0] ? account(rows[0]) : undefined;
  },
  async listAccounts(db: Db): Promise<AccountRecord[]> {
    return (await db.all("SELECT * FROM accounts ORDER BY created_at, id")).map(account);
  },
  async insertKeyPair(db: Db, k: KeyPairRecord): Promise<void> {
    await db.run(
      "INSERT INTO key_pairs (public_key, account_id, private_key_sealed, created_at) VALUES (?, ?, ?, ?)",
      [k.publicKey, k.accountId, k.privateKeySealed, k.createdAt],
    );
  },
  async keyPair(db: Db, publicKey: string): Promise<KeyPairRecord | undefined> {
    const rows = await db.all("SELECT * FROM key_pairs WHERE public_key = ?", [publicKey]);
    return rows[0] ? keyPair(rows[0]) : undefined;
  },
  async keyPairsOf(db: Db, accountId: string): Promise<KeyPairRecord[]> {
    return (
      await db.all("SELECT * FROM key_pairs WHERE account_id = ? ORDER BY created_at", [accountId])
    ).map(keyPair);
  },
  async deleteKeyPair(db: Db, publicKey: string): Promise<number> {
    return db.run("DELETE FROM key_pairs WHERE public_key = ?", [publicKey]);
  },
  async insertProject(db: Db, p: ProjectRecord): Promise<void> {
    await db.run(
      "INSERT INTO projects (id, account_id, name, is_default, created_at) VALUES (?, ?, ?, ?, ?)",
      [p.id, p.accountId, p.name, p.isDefault ? 1 : 0, p.createdAt],
    );
  },
  async project(db: Db, id: string): Promise<ProjectRecord | undefined> {
    const rows = await db.all("SELECT * FROM projects WHERE id = ?", [id]);
    return rows[0] ? project(rows[0]) : undefined;
  },
  async projectsOf(db: Db, accountId: string): Promise<ProjectRecord[]> {
    return (
      await db.all("SELECT * FROM projects WHERE account_id = ? ORDER BY is_default DESC, created_at, id", [
        accountId,
      ])
    ).map(project);
  },
  async projectResourceCount(db: Db, projectId: string): Promise<number> {
    const rows = await db.all("SELECT COUNT(*) AS n FROM instances WHERE project_id = ? AND in_recycle = 0", [
      projectId,
    ]);
    return Number(rows[0]?.n ?? 0);
  },
};
