import type { AuditKind, AuditRecord } from "../domain/records.js";
import type { Db, Param, Row } from "./db.js";

const auditFromRow = (r: Row): AuditRecord => ({
  seq: Number(r.seq),
  at: Number(r.at),
  kind: String(r.kind) as AuditKind,
  accountId: r.account_id == null ? null : String(r.account_id),
  publicKey: r.public_key == null ? null : String(r.public_key),
  client: String(r.client),
  action: String(r.action),
  resourceIds: JSON.parse(String(r.resource_ids ?? "[]")) as string[],
  retCode: Number(r.ret_code),
  requestId: String(r.request_id),
  message: String(r.message ?? ""),
});

/** Which audit entries to read. */
export interface AuditFilter {
  accountId?: string;
  action?: string;
  kind?: AuditKind;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
  /** Entries naming this resource id. */
  resourceId?: string;
}

/** The audit log (audit_log): the only place its SQL lives. */
export class AuditRepo {
  constructor(private readonly db: Db) {}

  /** Appends a batch in the caller's transaction. */
  async insertMany(entries: Array<Omit<AuditRecord, "seq">>): Promise<void> {
    for (const e of entries) {
      await this.db.run(
        "INSERT INTO audit_log (at, kind, account_id, public_key, client, action, resource_ids, ret_code, request_id, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
          e.at,
          e.kind,
          e.accountId,
          e.publicKey,
          e.client,
          e.action,
          JSON.stringify(e.resourceIds),
          e.retCode,
          e.requestId,
          e.message,
        ],
      );
    }
  }

  /** A page of matching entries, newest first, and how many match in all. */
  async page(
    filter: AuditFilter,
    offset: number,
    limit: number,
  ): Promise<{ total: number; rows: AuditRecord[] }> {
    const where: string[] = [];
    const params: Param[] = [];
    const add = (clause: string, value: Param | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    add("account_id = ?", filter.accountId);
    add("action = ?", filter.action);
    add("kind = ?", filter.kind);
    add("at >= ?", filter.from);
    add("at < ?", filter.to);
    // Ids are stored as a JSON array of plain ids ([a-z0-9-] in practice); the quotes make the
    // match exact, and a quote in the asked id cannot match anything stored.
    add(
      "resource_ids LIKE ? ESCAPE '\\'",
      filter.resourceId === undefined ? undefined : `%"${likeEscape(filter.resourceId)}"%`,
    );
    const cond = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    const total = Number(
      (await this.db.all(`SELECT COUNT(*) AS n FROM audit_log ${cond}`, params))[0]?.n ?? 0,
    );
    const rows = await this.db.all(`SELECT * FROM audit_log ${cond} ORDER BY seq DESC LIMIT ? OFFSET ?`, [
      ...params,
      limit,
      offset,
    ]);
    return { total, rows: rows.map(auditFromRow) };
  }

  /** Retention: drops entries older than `at`; returns how many. */
  async deleteBefore(at: number): Promise<number> {
    return this.db.run("DELETE FROM audit_log WHERE at < ?", [at]);
  }
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
