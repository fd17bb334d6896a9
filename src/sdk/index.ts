/**
 * opencompshare/sdk — a TypeScript client for the CompShare (UCloud 优云智算) GPU-instance API,
 * usable against opencompshare and against the real gateway (https://api.compshare.cn).
 */
export type { CompShareInstance } from "../actions/instances/render-instance.js";
export { computeSignature } from "../protocol/signature.js";
export { flatten, signedForm } from "../protocol/encode.js";
export type { ParamValue } from "../protocol/encode.js";
export type { ActionName, ActionTypes } from "./actions.js";
export { CompShareClient, CompShareError, DEFAULT_BASE_URL } from "./client.js";
export type { CallOptions, ClientOptions, CommonParams, Envelope } from "./client.js";
export { isGap, parseSse, readEventStream } from "./event-stream.js";
export type { CompShareEvent, EventStreamOptions, StreamGap, StreamMessage } from "./event-stream.js";
