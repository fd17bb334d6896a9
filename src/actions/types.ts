import type { Principal } from "../core/accounts/accounts.js";
import type { Scope } from "../core/instances/scope.js";
import type { Services } from "../core/services.js";
import type { Logger } from "../log.js";
import type { AsSent } from "../protocol/json.js";
import type { InferSchema, Schema } from "../protocol/schema.js";

/** What one call of an Action sees: the domain services, who calls, where, and a request logger. */
export interface ActionContext {
  services: Services;
  principal: Principal;
  /** Region of the request (the caller's or the catalog default where the action allows none). */
  region: string;
  /** Whether the caller named a Region (reads without one answer for every region). */
  regionAsked: boolean;
  /** Zone the caller sent, validated against the region. */
  zone?: string;
  /** The project the request acts in (ProjectId or the account's default). */
  scope: () => Promise<Scope>;
  requestId: string;
  log: Logger;
}

/**
 * One CompShare Action: its parameters (beyond the common ones the gateway handles), where Region
 * and Zone stand, and the handler. The response object is merged into the envelope.
 */
export interface ActionDef<
  N extends string = string,
  S extends Schema = Schema,
  R extends Record<string, unknown> = Record<string, unknown>,
> {
  name: N;
  schema: S;
  region: "required" | "optional";
  zone: "required" | "optional";
  /** Root key only (the emulator controls). */
  rootOnly?: boolean;
  /**
   * Whether a call changes nothing (kept out of the audit log). Absent: read by the name, as
   * CompShare names its reads (Describe…, Get…, Check…, List…); every other Action is audited.
   */
  readOnly?: boolean;
  handler(ctx: ActionContext, params: InferSchema<S>): Promise<R>;
}

const READ_NAME = /^(Describe|Get|Check|List)[A-Z]/;

/** Whether calls of `def` change something (and so are audited). */
export function mutates(def: Pick<ActionDef, "name" | "readOnly">): boolean {
  return !(def.readOnly ?? READ_NAME.test(def.name));
}

/**
 * Declares an action; its name, parameter and response types are inferred, and the TypeScript
 * SDK derives its typed methods from them (type-only imports of the registry).
 */
export function defineAction<N extends string, S, R extends Record<string, unknown>>(
  def: Omit<ActionDef<N, AsSchema<S>, R>, "schema"> & { schema: S },
): ActionDef<N, AsSchema<S>, R> {
  return def as ActionDef<N, AsSchema<S>, R>;
}

/**
 * `S` is left unconstrained in defineAction on purpose: a constraint would become the contextual
 * type of the schema literal, and nested `f.obj(...)` calls would then infer the bare `Schema`
 * instead of their own fields (losing the types of `Disks.N.Size` and the like).
 */
type AsSchema<S> = S extends Schema ? S : never;

/** Request parameters of an action definition, as the SDK sends them. */
export type ParamsOf<D> = D extends ActionDef<string, infer S, Record<string, unknown>>
  ? InferSchema<S>
  : never;
/** Response fields of an action definition, besides Action and RetCode. */
export type ResultOf<D> = D extends ActionDef<string, Schema, infer R> ? AsSent<R> : never;
