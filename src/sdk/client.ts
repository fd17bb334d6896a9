import type { CompShareInstance } from "../actions/instances/render-instance.js";
import type { ParamValue } from "../protocol/encode.js";
import { signedForm } from "../protocol/encode.js";
import type { ActionName, ActionTypes } from "./actions.js";
import { CompShareError } from "./errors.js";
import type { StreamMessage } from "./event-stream.js";
import { readEventStream } from "./event-stream.js";

export { CompShareError } from "./errors.js";

const SETTLED = ["Running", "Stopped", "Install Fail"];

/** The real CompShare gateway; CompShare keys only work there, not on api.ucloud.cn (reference §1.1). */
export const DEFAULT_BASE_URL = "https://api.compshare.cn";

export interface ClientOptions {
  /** Gateway URL; defaults to the real CompShare gateway. */
  baseUrl?: string;
  publicKey: string;
  privateKey: string;
  region: string;
  zone?: string;
  projectId?: string;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
  /** Retries of retryable failures (default 0, as the official Go SDK). */
  maxRetries?: number;
  /** For tests: the fetch and sleep to use. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export interface CallOptions {
  timeoutMs?: number;
  maxRetries?: number;
  /** Create actions are never retried unless this is true (as the Go SDK's SetRetryable(false)). */
  retryCreate?: boolean;
}

/** Common parameters every call may carry; Region, Zone and ProjectId default to the client's. */
export interface CommonParams {
  Region?: string;
  Zone?: string;
  ProjectId?: string;
}

export type Envelope = { Action: string; RetCode: number; Message?: string };

type Typed = {
  [K in ActionName as Uncapitalize<K>]: (
    params?: ActionTypes[K]["params"] & CommonParams,
    opts?: CallOptions,
  ) => Promise<ActionTypes[K]["result"] & Envelope>;
};

/**
 * Typed methods (`client.stopCompShareInstance({...})`), one per Action of the server's registry,
 * merged into the class; at run time a lowerCamel name calls the Action of the same name.
 */
export interface CompShareClient extends Typed {}

/**
 * A CompShare client for opencompshare and the real gateway alike: signing and encoding as the
 * official SDKs do it (form body, SHA1 signature), Go-SDK retry rules, a timeout per call.
 * No dependencies beyond Node's fetch and crypto.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the typed methods are answered by the proxy the constructor returns.
export class CompShareClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    // No list of Actions is kept here (the types come from the registry): any lowerCamel name that
    // is not a member maps to its Action, so a new Action needs no SDK change.
    // biome-ignore lint/correctness/noConstructorReturn: the proxy is the instance.
    return new Proxy(this, {
      get(target, prop, receiver) {
        if (typeof prop === "string" && !(prop in target) && isActionMethod(prop)) {
          const action = prop.charAt(0).toUpperCase() + prop.slice(1);
          return (params: Record<string, ParamValue> = {}, opts?: CallOptions) =>
            target.invoke(action, params, opts);
        }
        return Reflect.get(target, prop, receiver);
      },
    });
  }

  /** Calls any Action with any parameters; nested arrays/objects are flattened to `Name.N.Field`. */
  async invoke<R = Record<string, unknown>>(
    action: string,
    params: Record<string, ParamValue> = {},
    opts: CallOptions = {},
  ): Promise<R & Envelope> {
    const full: Record<string, ParamValue> = { Action: action, ...params };
    full.Region ??= this.options.region;
    if (this.options.zone !== undefined) full.Zone ??= this.options.zone;
    if (this.options.projectId !== undefined) full.ProjectId ??= this.options.projectId;
    const maxRetries =
      action.startsWith("Create") && !opts.retryCreate
        ? 0
        : (opts.maxRetries ?? this.options.maxRetries ?? 0);
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.once(action, full, opts.timeoutMs ?? this.options.timeoutMs ?? 30_000)) as R &
          Envelope;
      } catch (e) {
        if (!(e instanceof CompShareError) || !e.retryable || attempt >= maxRetries) throw e;
        // The Go SDK's backoff: 4^n × rand(100–199) ms, n capped at 7.
        await this.sleep(4 ** Math.min(attempt, 7) * (100 + Math.floor(Math.random() * 100)));
      }
    }
  }

  private async once(
    action: string,
    params: Record<string, ParamValue>,
    timeoutMs: number,
  ): Promise<Envelope> {
    const body = signedForm(params, this.options.publicKey, this.options.privateKey);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.baseUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "U-Timestamp-Ms": String(Date.now()),
        },
        body,
        signal: controller.signal,
      });
      text = await res.text();
    } catch (e) {
      const reason = controller.signal.aborted ? `timed out after ${timeoutMs} ms` : (e as Error).message;
      throw new CompShareError(-1, reason, action, undefined);
    } finally {
      clearTimeout(timer);
    }
    const requestId = res.headers.get("x-ucloud-request-uuid") ?? undefined;
    if (res.status >= 400) throw new CompShareError(-1, `HTTP ${res.status}`, action, requestId, res.status);
    let data: Envelope;
    try {
      data = JSON.parse(text) as Envelope;
    } catch {
      throw new CompShareError(-1, `invalid JSON response: ${text.slice(0, 200)}`, action, requestId);
    }
    const retCode = Number(data.RetCode ?? -1);
    if (retCode !== 0) throw new CompShareError(retCode, data.Message ?? "", action, requestId);
    return data;
  }

  /**
   * The live event stream (opencompshare's `GET /events`): every committed change of the project's
   * instances (or of `uhostIds` only; of every project with `allProjects`), as an async iterator.
   * It reconnects by itself, resuming after the last event seen; `lastEventId` resumes an earlier
   * stream. Break out of the loop (or abort `signal`) to close it.
   */
  events(
    opts: {
      uhostIds?: string[];
      allProjects?: boolean;
      lastEventId?: number;
      signal?: AbortSignal;
      reconnect?: boolean;
    } = {},
  ): AsyncGenerator<StreamMessage> {
    const params: Record<string, ParamValue> = {
      UHostIds: opts.uhostIds,
      AllProjects: opts.allProjects ? true : undefined,
      ProjectId: opts.allProjects ? undefined : this.options.projectId,
    };
    const url = new URL("events", this.baseUrl.endsWith("/") ? this.baseUrl : `${this.baseUrl}/`);
    url.search = signedForm(params, this.options.publicKey, this.options.privateKey).toString();
    return readEventStream({
      url: url.toString(),
      lastEventId: opts.lastEventId,
      signal: opts.signal,
      reconnect: opts.reconnect,
      fetch: this.fetchImpl,
      sleep: this.sleep,
    });
  }

  /**
   * One instance by id (DescribeCompShareInstance), or a CompShareError 8039 worded as the server's
   * own "not found", since Describe answers an unknown id with an empty set rather than an error.
   */
  async getInstance(uhostId: string): Promise<CompShareInstance> {
    const r = await this.describeCompShareInstance({ UHostIds: [uhostId] });
    const inst = r.UHostSet[0] as CompShareInstance | undefined;
    if (!inst)
      throw new CompShareError(8039, `UHostId ${uhostId} not found`, "DescribeCompShareInstance", undefined);
    return inst;
  }

  /**
   * Polls DescribeCompShareInstance until the instance is in `state`. Rejects on timeout, when the
   * instance disappears, or when it settles elsewhere after a failed operation (Remark says why).
   */
  async waitForState(
    uhostId: string,
    state: string,
    opts: {
      timeoutMs?: number;
      intervalMs?: number;
      onProgress?: (current: string, elapsedMs: number) => void;
    } = {},
  ): Promise<CompShareInstance> {
    const started = Date.now();
    const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
    for (;;) {
      const inst = await this.getInstance(uhostId);
      opts.onProgress?.(inst.State, Date.now() - started);
      if (inst.State === state) return inst;
      // A failed operation puts the instance back in a settled state with the reason in Remark
      // (cleared by the next operation), so waiting longer would never succeed.
      if (SETTLED.includes(inst.State) && inst.Remark.includes("last operation failed")) {
        throw new CompShareError(
          8041,
          `instance settled in ${inst.State}: ${inst.Remark}`,
          "DescribeCompShareInstance",
          undefined,
        );
      }
      if (Date.now() - started > timeoutMs) {
        throw new CompShareError(
          -1,
          `timed out after ${timeoutMs} ms waiting for ${state} (now ${inst.State})`,
          "DescribeCompShareInstance",
          undefined,
        );
      }
      await this.sleep(opts.intervalMs ?? 1000);
    }
  }

  /**
   * Polls GetCompShareImageCreateProgress until the custom image is Available, reporting its
   * progress (percent, seconds left). Rejects on timeout or when the job fails (the reason is in
   * the error's message).
   */
  async waitForImage(
    imageId: string,
    opts: {
      timeoutMs?: number;
      intervalMs?: number;
      onProgress?: (percent: number, remainingSeconds: number, elapsedMs: number) => void;
    } = {},
  ): Promise<void> {
    const started = Date.now();
    const timeoutMs = opts.timeoutMs ?? 60 * 60_000;
    for (;;) {
      const p = await this.getCompShareImageCreateProgress({ CompShareImageId: imageId });
      opts.onProgress?.(p.Process, Number(p.RemainingDuration), Date.now() - started);
      if (p.Status === "Available") return;
      if (p.Status === "Failed")
        throw new CompShareError(
          8073,
          `image ${imageId} failed: ${p.FailedReason}`,
          "GetCompShareImageCreateProgress",
          undefined,
        );
      if (Date.now() - started > timeoutMs)
        throw new CompShareError(
          -1,
          `timed out after ${timeoutMs} ms waiting for image ${imageId} (at ${p.Process}%)`,
          "GetCompShareImageCreateProgress",
          undefined,
        );
      await this.sleep(opts.intervalMs ?? 2000);
    }
  }
}

/**
 * Action method names are lowerCamel with at least two words (`getRegion`), which keeps promise and
 * serialisation probes (`then`, `toJSON`) from being taken for Actions.
 */
function isActionMethod(name: string): boolean {
  return /^[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*$/.test(name) && !/^to[A-Z]/.test(name);
}
