import type { AccountService, Principal } from "../core/accounts.js";
import type { CatalogIndex } from "../core/catalog.js";
import type { OffsetClock } from "../core/clock.js";
import type { InstanceService, Scope } from "../core/instances.js";
import type { Driver } from "../drivers/driver.js";
import type { SimDriver } from "../drivers/sim/sim-driver.js";
import type { Logger } from "../log.js";
import type { InferSchema, Schema } from "../protocol/schema.js";
import type { Db } from "../store/db.js";
import type { Worker } from "../worker/worker.js";
import type { FaultTable } from "./emulator/faults.js";

/** Everything an action may use; built once in src/server.ts. */
export interface AppDeps {
  db: Db;
  catalog: CatalogIndex;
  clock: OffsetClock;
  accounts: AccountService;
  instances: InstanceService;
  driver: Driver;
  worker: Worker;
  faults: FaultTable;
  /** Present when the driver is the simulator: the emulator controls work on it. */
  sim?: SimDriver;
  /** Resets all state (emulator only). */
  reset?: () => Promise<void>;
  log: Logger;
}

export interface ActionContext {
  deps: AppDeps;
  principal: Principal;
  /** Region of the request (the caller's or the catalog default where the action allows none). */
  region: string;
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
  S extends Schema = Schema,
  R extends Record<string, unknown> = Record<string, unknown>,
> {
  name: string;
  schema: S;
  region: "required" | "optional";
  zone: "required" | "optional";
  /** Root key only (the emulator controls). */
  rootOnly?: boolean;
  handler(ctx: ActionContext, params: InferSchema<S>): Promise<R>;
}

/**
 * Declares an action; its parameter and response types are inferred from the schema and the
 * handler, and the TypeScript SDK derives its typed methods from them (type-only imports).
 */
export function defineAction<S extends Schema, R extends Record<string, unknown>>(
  def: ActionDef<S, R>,
): ActionDef<S, R> {
  return def;
}

/** Request parameters of an action definition, as the SDK sends them. */
export type ParamsOf<D> = D extends ActionDef<infer S, Record<string, unknown>> ? InferSchema<S> : never;
/** Response fields of an action definition, besides Action and RetCode. */
export type ResultOf<D> = D extends ActionDef<Schema, infer R> ? R : never;
