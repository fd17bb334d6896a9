import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActionContext, ActionDef } from "../actions/types.js";
import { mutates } from "../actions/types.js";
import type { FaultTable } from "../core/emulator/faults.js";
import type { Services } from "../core/services.js";
import { ApiError, badParam, missingParam } from "../domain/errors.js";
import type { AccountRecord } from "../domain/records.js";
import type { Logger } from "../log.js";
import { encodeJson } from "../protocol/json.js";
import { DEFAULT_LIMITS, decodeParams } from "../protocol/params.js";
import type { DecodeLimits, ParamTree } from "../protocol/params.js";
import { coerce } from "../protocol/schema.js";
import { computeSignature, signatureMatches } from "../protocol/signature.js";
import type { WireValue } from "../protocol/signature.js";
import { answers } from "./coalesce.js";
import type { Metrics } from "./metrics.js";
import type { TokenBuckets } from "./throttle.js";

/** Parameters every Action accepts; the gateway consumes them before the Action's schema runs. */
const COMMON = new Set(["Action", "PublicKey", "Signature", "Region", "Zone", "ProjectId"]);

/** A request's own parameters: the decoded tree without the common ones (the gateway's). */
export function ownParams(tree: ParamTree): ParamTree {
  const own: ParamTree = Object.create(null);
  for (const [k, v] of Object.entries(tree)) if (!COMMON.has(k)) own[k] = v;
  return own;
}

/**
 * Writes an envelope: HTTP 200 whatever the RetCode (the SDKs drop the body of any status ≥ 400),
 * JSON, and the request id the SDKs read. The body goes out with the rest of this turn's answers
 * (coalesce.ts).
 */
export function sendEnvelope(
  res: ServerResponse,
  requestId: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  // Encoded once: measuring the string and then having the socket encode it walked a page of 100
  // (190 KB) twice.
  const payload = encodeJson(body);
  res.writeHead(200, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": payload.byteLength,
    "X-UCLOUD-REQUEST-UUID": requestId,
    ...headers,
  });
  answers.end(res, payload);
}
/** Resource ids kept per audit entry and log line. */
const MAX_RESOURCE_IDS = 100;

export interface GatewayDeps {
  services: Services;
  /** API faults the emulator injected (consulted before an Action runs). */
  faults: FaultTable;
  actions: Map<string, ActionDef>;
  /** Refuse unknown parameters (OCS_STRICT_PARAMS) instead of ignoring them as the real gateway does. */
  strictParams: boolean;
  metrics: Metrics;
  log: Logger;
  /** What one request may carry (OCS_MAX_*); absent: the defaults. */
  limits?: DecodeLimits;
  /** Failed authentications per client address (absent: not throttled). */
  authFailures?: TokenBuckets;
  /** Requests per account (absent: not throttled); the root account is never throttled. */
  accountRate?: TokenBuckets;
}

/** The result of one API call, before it is written to the socket. */
export interface ApiResult {
  action: string;
  body: Record<string, unknown>;
  retCode: number;
}

/**
 * Reads the body up to `limit` bytes. A declared Content-Length over it is refused before a byte
 * is read, a chunked body as soon as it passes it; the rest is never read (the response closes
 * the connection). "aborted": the client went away mid-body.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large" | "aborted"> {
  if (Number(req.headers["content-length"]) > limit) return Promise.resolve("too-large");
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | "too-large" | "aborted") => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        done("too-large");
      } else chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    const onAbort = () => done("aborted");
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}

/** The client's address: the socket's, or behind a trusted proxy the last X-Forwarded-For entry. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers["x-forwarded-for"];
    const last = (Array.isArray(header) ? header.join(",") : header)?.split(",").pop()?.trim();
    if (last) return last.slice(0, 64);
  }
  const a = req.socket.remoteAddress ?? "unknown";
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

/** Handles one HTTP request to the API endpoint; every outcome is HTTP 200 + JSON envelope. */
export async function handleApi(
  deps: GatewayDeps,
  req: IncomingMessage,
  res: ServerResponse,
  client: string,
): Promise<void> {
  answers.expectAnswer();
  const requestId = randomUUID();
  const started = process.hrtime.bigint();
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const query = q === -1 ? "" : url.slice(q + 1);
  let result: ApiResult;
  const body = await readBody(req, (deps.limits ?? DEFAULT_LIMITS).bodyBytes);
  if (body === "aborted") return;
  try {
    result = await dispatch(
      deps,
      requestId,
      req.method ?? "GET",
      query,
      body,
      req.headers["content-type"],
      client,
    );
  } catch (e) {
    result = renderError(deps.log, requestId, "", e);
  }
  // The unread rest of an oversized body is not worth reading: the connection goes with it.
  sendEnvelope(res, requestId, result.body, body === "too-large" ? { Connection: "close" } : {});
  // Up to the answer's hand-over: the wait for the turn's flush (the rest of the turn) is not in it.
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  deps.metrics.observe(deps.actions.has(result.action) ? result.action : "unknown", result.retCode, seconds);
}

/** Decodes, authenticates and runs one call; exported so tests and benchmarks can skip HTTP. */
export async function dispatch(
  deps: GatewayDeps,
  requestId: string,
  method: string,
  query: string,
  body: Buffer | "too-large",
  contentType: string | undefined,
  client = "local",
): Promise<ApiResult> {
  let actionName = "";
  const limits = deps.limits ?? DEFAULT_LIMITS;
  try {
    // A best-effort Action name for the error envelope, before anything else can fail.
    actionName = /(?:^|&)Action=([A-Za-z0-9]{1,64})(?:&|$)/.exec(query)?.[1] ?? "";
    if (method !== "GET" && method !== "POST")
      throw badParam("Method", `${method} is not supported; use GET or POST`);
    if (body === "too-large") throw badParam("Body", `larger than ${limits.bodyBytes} bytes`);
    const decoded = decodeParams(query, body, contentType, limits);
    const p = decoded.signParams;
    const rawAction = p.Action;
    if (rawAction === undefined || rawAction === "" || rawAction === null)
      throw new ApiError("MissingAction");
    if (typeof rawAction !== "string") throw badParam("Action", "must be a string");
    actionName = rawAction;
    const action = deps.actions.get(rawAction);
    if (!action) throw new ApiError("ActionNotFound", { action: rawAction.slice(0, 64) });

    const { account, publicKey } = await authenticateRequest(deps, requestId, action.name, client, p);

    const log = deps.log.child({ requestId, action: action.name, account: account.id, client });
    const audited = mutates(action);
    let data: Record<string, unknown> | undefined;
    try {
      if (action.rootOnly && !account.isRoot)
        throw new ApiError("PermissionDenied", { reason: `${action.name} needs the root key pair` });
      const fault = deps.faults.take(action.name);
      if (fault) throw new ApiError("FaultInjected", { message: fault.message }, fault.retCode);
      const { region, zone, regionAsked } = resolveLocation(deps.services, action, decoded.tree);
      const projectId = stringParam(decoded.tree, "ProjectId");
      let scopePromise: ReturnType<ActionContext["scope"]> | undefined;
      const ctx: ActionContext = {
        services: deps.services,
        principal: { account, publicKey },
        region,
        regionAsked,
        zone,
        requestId,
        log,
        scope: () => {
          scopePromise ??= deps.services.accounts
            .resolveProject(account.id, projectId)
            .then((project) => ({ account, project, region, zone }));
          return scopePromise;
        },
      };
      // Resolve the project up front so a foreign ProjectId is 292 on every action.
      if (projectId !== undefined) await ctx.scope();

      const unknown: string[] | undefined = deps.strictParams ? undefined : [];
      const params = coerce(action.schema, ownParams(decoded.tree), { unknown });
      if (unknown && unknown.length > 0) {
        log.debug("ignored unknown parameters", { params: unknown });
        for (const name of unknown) deps.metrics.ignoredParam(action.name, name);
      }
      data = await action.handler(ctx, params);
      const resourceIds = idsIn(decoded.tree, data);
      log.info("ok", { resourceIds });
      if (audited)
        auditCall(deps, { requestId, action: action.name, account, publicKey, client }, 0, "", resourceIds);
    } catch (e) {
      const refused = e instanceof ApiError ? e : new ApiError("InternalError", { requestId });
      const resourceIds = idsIn(decoded.tree, undefined);
      if (e instanceof ApiError) log.info("refused", { retCode: refused.retCode, resourceIds });
      if (audited)
        auditCall(
          deps,
          { requestId, action: action.name, account, publicKey, client },
          refused.retCode,
          refused.message,
          resourceIds,
        );
      throw e;
    }
    return {
      action: action.name,
      retCode: 0,
      body: { Action: `${action.name}Response`, RetCode: 0, ...data },
    };
  } catch (e) {
    return renderError(deps.log, requestId, actionName, e);
  }
}

/**
 * Authenticates a decoded request (every parameter as received is signed): `PublicKey` and
 * `Signature` present, then {@link authenticate}. Actions and the event stream (`GET /events`,
 * `action` "Events") go through it alike, throttles and audit included.
 */
export async function authenticateRequest(
  deps: GatewayDeps,
  requestId: string,
  action: string,
  client: string,
  p: Record<string, WireValue>,
): Promise<{ account: AccountRecord; publicKey: string }> {
  const publicKey = p.PublicKey;
  if (publicKey === undefined || publicKey === "")
    throw new ApiError("MissingSignature", { param: "PublicKey" });
  if (typeof publicKey !== "string") throw badParam("PublicKey", "must be a string");
  const signature = p.Signature;
  if (signature === undefined || signature === "")
    throw new ApiError("MissingSignature", { param: "Signature" });
  if (typeof signature !== "string") throw badParam("Signature", "must be a string");
  const account = await authenticate(deps, { requestId, action, client, publicKey, signature, p });
  return { account, publicKey };
}

interface Caller {
  requestId: string;
  action: string;
  client: string;
  publicKey: string;
}

/**
 * The signature check, between two throttles: a client address whose failed authentications have
 * emptied its bucket is refused before the key lookup and the SHA1 (so a flood costs a map lookup,
 * and guessing is slowed to the refill rate); an account over its request rate after it.
 * Unknown keys, disabled keys, keys of disabled accounts and bad signatures each take a token
 * and are audited; the first three answer alike (172).
 */
async function authenticate(
  deps: GatewayDeps,
  c: Caller & { signature: string; p: Record<string, WireValue> },
): Promise<AccountRecord> {
  const buckets = deps.authFailures;
  if (buckets && !buckets.allows(c.client)) {
    deps.metrics.throttled("auth_failures");
    throw new ApiError("RequestThrottled", {
      reason: `too many failed authentications from ${c.client}`,
      retryAfter: buckets.retryAfter(c.client),
    });
  }
  const key = await deps.services.accounts.resolveKey(c.publicKey);
  const failure = !key
    ? new ApiError("UserNotExists")
    : signatureMatches(c.signature, computeSignature(c.p, key.privateKey))
      ? undefined
      : new ApiError("SignatureError");
  if (!key || failure) {
    const err = failure ?? new ApiError("UserNotExists");
    buckets?.take(c.client);
    deps.log.warn("authentication failed", {
      requestId: c.requestId,
      action: c.action,
      client: c.client,
      publicKey: c.publicKey.slice(0, 64),
      retCode: err.retCode,
      ...(buckets && !buckets.allows(c.client) ? { throttledForSeconds: buckets.retryAfter(c.client) } : {}),
    });
    deps.services.audit.record({
      kind: "auth-failure",
      accountId: key?.accountId ?? null,
      publicKey: c.publicKey.slice(0, 64),
      client: c.client,
      action: c.action,
      resourceIds: [],
      retCode: err.retCode,
      requestId: c.requestId,
      message: err.message,
    });
    throw err;
  }
  const account = key.account;
  if (deps.accountRate && !account.isRoot && !deps.accountRate.take(account.id)) {
    deps.metrics.throttled("account_rate");
    throw new ApiError("RequestThrottled", {
      reason: `account ${account.id} is over its request rate`,
      retryAfter: deps.accountRate.retryAfter(account.id),
    });
  }
  deps.services.accounts
    .touchKey(c.publicKey)
    ?.catch((e) => deps.log.warn("could not record a key's last use", { err: e }));
  return account;
}

function auditCall(
  deps: GatewayDeps,
  c: Caller & { account: AccountRecord },
  retCode: number,
  message: string,
  resourceIds: string[],
): void {
  deps.services.audit.record({
    kind: "call",
    accountId: c.account.id,
    publicKey: c.publicKey,
    client: c.client,
    action: c.action,
    resourceIds,
    retCode,
    requestId: c.requestId,
    message,
  });
}

/**
 * The resource ids a call named or made: string values of top-level parameters and response
 * fields named `…Id` or `…Ids` (UHostId, UHostIds, ImageId, DiskId…), ProjectId included.
 */
function idsIn(tree: ParamTree, data: Record<string, unknown> | undefined): string[] {
  const out = new Set<string>();
  const take = (v: unknown) => {
    if (out.size >= MAX_RESOURCE_IDS) return;
    if (typeof v === "string" && v !== "" && v.length <= 64) out.add(v);
    else if (v !== null && typeof v === "object")
      for (const x of Object.values(v as Record<string, unknown>)) if (typeof x === "string") take(x);
  };
  for (const source of [tree, data]) {
    if (!source) continue;
    for (const k in source) if (k !== "Signature" && k !== "PublicKey" && /Ids?$/.test(k)) take(source[k]);
  }
  return [...out];
}

function stringParam(tree: ParamTree, name: string): string | undefined {
  const v = tree[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw badParam(name, "must be a string");
  return v;
}

/** Region and Zone are common parameters: checked once here against the catalog. */
function resolveLocation(
  services: Services,
  action: ActionDef,
  tree: ParamTree,
): { region: string; zone?: string; regionAsked: boolean } {
  const regionParam = stringParam(tree, "Region");
  const zone = stringParam(tree, "Zone");
  if (regionParam === undefined && action.region === "required") throw missingParam("Region");
  const region =
    regionParam ??
    (zone ? services.catalog.regionOf(zone)?.region : undefined) ??
    services.catalog.defaultRegion().region;
  const r = services.catalog.region(region);
  if (!r) {
    throw badParam(
      "Region",
      `unknown region ${region}; choose one of ${services.catalog.catalog.regions.map((x) => x.region).join(", ")}`,
    );
  }
  const regionAsked = regionParam !== undefined;
  if (zone === undefined) {
    if (action.zone === "required") throw missingParam("Zone");
    return { region, regionAsked };
  }
  services.rules.zone(region, zone);
  return { region, zone, regionAsked };
}

/** The one renderer of error envelopes. Unknown errors are logged with the request id, never echoed. */
export function renderError(log: Logger, requestId: string, action: string, e: unknown): ApiResult {
  const safeAction = /^[A-Za-z0-9]{1,64}$/.test(action) ? action : "";
  let err: ApiError;
  if (e instanceof ApiError) err = e;
  else {
    log.error("internal error", {
      requestId,
      action: safeAction,
      err: e instanceof Error ? e.stack : String(e),
    });
    err = new ApiError("InternalError", { requestId });
  }
  return {
    action: safeAction,
    retCode: err.retCode,
    body: { Action: `${safeAction}Response`, RetCode: err.retCode, Message: err.message },
  };
}
