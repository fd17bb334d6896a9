import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActionContext, ActionDef } from "../actions/types.js";
import type { FaultTable } from "../core/emulator/faults.js";
import type { Services } from "../core/services.js";
import { ApiError, badParam, missingParam } from "../domain/errors.js";
import type { Logger } from "../log.js";
import { LIMITS, decodeParams } from "../protocol/params.js";
import type { ParamTree } from "../protocol/params.js";
import { coerce } from "../protocol/schema.js";
import { authenticate } from "./auth.js";
import type { Metrics } from "./metrics.js";

/** Parameters every Action accepts; the gateway consumes them before the Action's schema runs. */
const COMMON = new Set(["Action", "PublicKey", "Signature", "Region", "Zone", "ProjectId"]);

export interface GatewayDeps {
  services: Services;
  /** API faults the emulator injected (consulted before an Action runs). */
  faults: FaultTable;
  actions: Map<string, ActionDef>;
  /** Refuse unknown parameters (OCS_STRICT_PARAMS) instead of ignoring them as the real gateway does. */
  strictParams: boolean;
  metrics: Metrics;
  log: Logger;
}

/** The result of one API call, before it is written to the socket. */
export interface ApiResult {
  action: string;
  body: Record<string, unknown>;
  retCode: number;
}

/** Reads the body up to the limit; past it the rest is drained and the request refused with 230. */
async function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LIMITS.bodyBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk as Buffer);
  }
  return tooLarge ? "too-large" : Buffer.concat(chunks);
}

/** Handles one HTTP request to the API endpoint; every outcome is HTTP 200 + JSON envelope. */
export async function handleApi(deps: GatewayDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const started = process.hrtime.bigint();
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const query = q === -1 ? "" : url.slice(q + 1);
  let result: ApiResult;
  try {
    const body = await readBody(req);
    result = await dispatch(deps, requestId, req.method ?? "GET", query, body, req.headers["content-type"]);
  } catch (e) {
    result = renderError(deps.log, requestId, "", e);
  }
  const payload = JSON.stringify(result.body);
  res.writeHead(200, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    "X-UCLOUD-REQUEST-UUID": requestId,
  });
  res.end(payload);
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
): Promise<ApiResult> {
  let actionName = "";
  try {
    // A best-effort Action name for the error envelope, before anything else can fail.
    actionName = /(?:^|&)Action=([A-Za-z0-9]{1,64})(?:&|$)/.exec(query)?.[1] ?? "";
    if (method !== "GET" && method !== "POST")
      throw badParam("Method", `${method} is not supported; use GET or POST`);
    if (body === "too-large") throw badParam("Body", `larger than ${LIMITS.bodyBytes} bytes`);
    const decoded = decodeParams(query, body, contentType);
    const p = decoded.signParams;
    const rawAction = p.Action;
    if (rawAction === undefined || rawAction === "" || rawAction === null)
      throw new ApiError("MissingAction");
    if (typeof rawAction !== "string") throw badParam("Action", "must be a string");
    actionName = rawAction;
    const action = deps.actions.get(rawAction);
    if (!action) throw new ApiError("ActionNotFound", { action: rawAction.slice(0, 64) });

    const { account, publicKey } = await authenticate(deps.services.accounts, p);
    if (action.rootOnly && !account.isRoot) {
      throw new ApiError("PermissionDenied", { reason: `${action.name} needs the root key pair` });
    }

    const fault = deps.faults.take(action.name);
    if (fault) throw new ApiError("FaultInjected", { message: fault.message }, fault.retCode);

    const log = deps.log.child({ requestId, action: action.name, account: account.id });
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

    const tree: ParamTree = Object.create(null);
    for (const [k, v] of Object.entries(decoded.tree)) if (!COMMON.has(k)) tree[k] = v;
    const unknown: string[] | undefined = deps.strictParams ? undefined : [];
    const params = coerce(action.schema, tree, { unknown });
    if (unknown && unknown.length > 0) {
      log.debug("ignored unknown parameters", { params: unknown });
      for (const name of unknown) deps.metrics.ignoredParam(action.name, name);
    }
    const data = await action.handler(ctx, params);
    log.info("ok");
    return {
      action: action.name,
      retCode: 0,
      body: { Action: `${action.name}Response`, RetCode: 0, ...data },
    };
  } catch (e) {
    return renderError(deps.log, requestId, actionName, e);
  }
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
