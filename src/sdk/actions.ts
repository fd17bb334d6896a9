// Type-only: the SDK's request and response types come from the server's own action registry,
// so every Action is written once. The import is erased at compile time, so the SDK carries no
// server code at run time.
import type { ACTIONS } from "../actions/registry.js";
import type { ParamsOf, ResultOf } from "../actions/types.js";

type Defs = (typeof ACTIONS)[number];

/** Every Action the server implements, with its request parameters and response fields. */
export type ActionTypes = {
  [D in Defs as D["name"]]: { params: ParamsOf<D>; result: ResultOf<D> };
};

export type ActionName = keyof ActionTypes;
