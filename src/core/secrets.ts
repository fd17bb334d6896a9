import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Private keys and instance passwords are stored encrypted with a server master key
 * (AES-256-GCM). The signature scheme needs the plain private key to recompute SHA1, so a one-way
 * hash is not an option; encryption at rest is the best we can do.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error("master key must be 32 bytes");
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return `v1:${Buffer.concat([iv, c.getAuthTag(), body]).toString("base64")}`;
  }

  open(sealed: string): string {
    if (!sealed.startsWith("v1:")) throw new Error("unknown secret format");
    const raw = Buffer.from(sealed.slice(3), "base64");
    const d = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString("utf8");
  }
}

/**
 * Creates `dir` readable by this user only (0700), or tightens an existing one that others could
 * read; returns whether it had to tighten it (the caller warns).
 */
export function privateDir(dir: string): boolean {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return false;
  }
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return false;
  chmodSync(dir, mode & 0o700);
  return true;
}

/** Where the master key comes from: inline (OCS_MASTER_KEY), a file of its own, or the data dir. */
export interface MasterKeySource {
  dataDir: string;
  inline?: string;
  /** OCS_MASTER_KEY_FILE: kept apart from the database, so one backup does not hold both. */
  file?: string;
}

/**
 * The master key: `OCS_MASTER_KEY` (base64, 32 bytes) when set — replicas on one PostgreSQL must
 * share it — else the file `OCS_MASTER_KEY_FILE` names, else `<dataDir>/master.key`; a missing
 * file is created (mode 0600) on first start.
 */
export function loadOrCreateMasterKey(from: MasterKeySource | string, inline?: string): Buffer {
  const src: MasterKeySource = typeof from === "string" ? { dataDir: from, inline } : from;
  if (src.inline !== undefined) {
    const key = Buffer.from(src.inline, "base64");
    if (key.length !== 32) throw new Error("OCS_MASTER_KEY: must be 32 bytes, base64-encoded");
    return key;
  }
  const path = src.file ?? join(src.dataDir, "master.key");
  if (src.file === undefined) privateDir(src.dataDir);
  else if (!existsSync(dirname(path)))
    throw new Error(`OCS_MASTER_KEY_FILE: the folder of ${path} does not exist`);
  const read = () => {
    const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
    return key;
  };
  if (existsSync(path)) {
    // Ours to fix in the data dir; an operator's own file (a mounted secret) is left as it is.
    if (src.file === undefined && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return read();
  }
  const key = randomBytes(32);
  try {
    writeFileSync(path, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  } catch (e) {
    // Two processes starting on one data dir: the other one wrote it first.
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return read();
    throw e;
  }
  return key;
}
