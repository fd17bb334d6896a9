import { MAX_LIMIT, pageOf } from "../../core/paging.js";
import { unixSeconds } from "../../domain/clock.js";
import { f } from "../../protocol/schema.js";
import { defineAction } from "../types.js";

const KINDS = ["call", "auth-failure", "admin"] as const;

/**
 * Extension, root key only: the audit log, newest first — every mutating call (success or
 * refusal), every failed authentication and every operator's change, with the account, the key,
 * the client's address, the resource ids, the RetCode and the request id. `AuditAction` filters by
 * Action (the name `Action` is the request's own).
 */
export default defineAction({
  name: "DescribeAuditLog",
  schema: {
    AccountId: f.str({ maxLength: 64 }),
    AuditAction: f.str({ maxLength: 64 }),
    Kind: f.str({ oneOf: KINDS }),
    ResourceId: f.str({ maxLength: 64 }),
    BeginTime: f.int({ min: 0 }),
    EndTime: f.int({ min: 0 }),
    Limit: f.int({ min: 1, max: MAX_LIMIT }),
    Offset: f.int({ min: 0 }),
  },
  region: "optional",
  zone: "optional",
  rootOnly: true,
  async handler(ctx, p) {
    const page = pageOf(p);
    const { total, rows } = await ctx.services.audit.page(
      {
        accountId: p.AccountId,
        action: p.AuditAction,
        kind: p.Kind as (typeof KINDS)[number] | undefined,
        resourceId: p.ResourceId,
        from: p.BeginTime === undefined ? undefined : p.BeginTime * 1000,
        to: p.EndTime === undefined ? undefined : p.EndTime * 1000,
      },
      page.offset,
      page.limit,
    );
    return {
      TotalCount: total,
      AuditSet: rows.map((e) => ({
        Time: unixSeconds(e.at),
        TimeMs: e.at,
        Kind: e.kind,
        AccountId: e.accountId ?? "",
        PublicKey: e.publicKey ?? "",
        ClientAddress: e.client,
        AuditAction: e.action,
        ResourceIds: e.resourceIds,
        RetCode: e.retCode,
        RequestId: e.requestId,
        Message: e.message,
      })),
    };
  },
});
