import { sha1 } from "@noble/hashes/legacy.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { ParamValue } from "../../../src/protocol/form.js";
import { flatten } from "../../../src/protocol/form.js";
import { signingPayload } from "../../../src/protocol/sign-string.js";
import { CompShareError } from "../../../src/sdk/errors.js";
import type { StreamMessage } from "../../../src/sdk/event-stream.js";
import { readEventStream } from "../../../src/sdk/event-stream.js";

export { CompShareError };
export type { ParamValue, StreamMessage };

/** Who is signed in: the key pair lives only in this tab's sessionStorage (see session.ts). */
export interface Credentials {
  publicKey: string;
  privateKey: string;
  region: string;
  projectId?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: API answers are read field by field, as the wire spells them.
export type Answer = Record<string, any>;

/**
 * The UCloud signature, computed in the browser: SHA1 over the sorted `key+value` string plus the
 * private key (the same string the server builds, src/protocol/sign-string.ts). SHA1 comes from
 * @noble/hashes because WebCrypto is missing on a plain-http page served from another host.
 */
export function sign(params: Record<string, string>, privateKey: string): string {
  return bytesToHex(sha1(utf8ToBytes(signingPayload(params) + privateKey)));
}

/** Signed calls to the same server that served the page, and its event stream. */
export class Api {
  constructor(readonly creds: Credentials) {}

  /** The common parameters, flattened and signed. */
  signed(params: Record<string, ParamValue>): URLSearchParams {
    const flat = flatten({ ...params, PublicKey: this.creds.publicKey });
    const body = new URLSearchParams(flat);
    body.set("Signature", sign(flat, this.creds.privateKey));
    return body;
  }

  /** Calls an Action; an answer with RetCode ≠ 0 rejects with a CompShareError. */
  async call(action: string, params: Record<string, ParamValue> = {}): Promise<Answer> {
    const body = this.signed({
      Action: action,
      Region: this.creds.region || undefined,
      ProjectId: this.creds.projectId,
      ...params,
    });
    let res: Response;
    try {
      res = await fetch("../", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
      });
    } catch (e) {
      throw new CompShareError(
        -1,
        `the server cannot be reached (${(e as Error).message})`,
        action,
        undefined,
      );
    }
    const requestId = res.headers.get("x-ucloud-request-uuid") ?? undefined;
    let data: Answer;
    try {
      data = (await res.json()) as Answer;
    } catch {
      throw new CompShareError(-1, `HTTP ${res.status}: not an API answer`, action, requestId, res.status);
    }
    if (data.RetCode !== 0)
      throw new CompShareError(Number(data.RetCode), String(data.Message ?? ""), action, requestId);
    return data;
  }

  /** The live event stream of the project (or of every project, or of some instances). */
  events(opts: {
    allProjects?: boolean;
    uhostIds?: string[];
    lastEventId?: number;
    signal: AbortSignal;
    onOpen?: () => void;
    onDisconnect?: (why: string) => void;
  }): AsyncGenerator<StreamMessage> {
    const query = this.signed({
      AllProjects: opts.allProjects ? true : undefined,
      ProjectId: opts.allProjects ? undefined : this.creds.projectId,
      UHostIds: opts.uhostIds,
    });
    return readEventStream({
      url: `../events?${query}`,
      lastEventId: opts.lastEventId,
      signal: opts.signal,
      onOpen: opts.onOpen,
      onDisconnect: opts.onDisconnect,
    });
  }
}

/** The message a CompShareError carries, without the "Action: RetCode n:" prefix. */
export function errorText(e: unknown): { retCode: number; message: string } {
  if (e instanceof CompShareError) {
    const m = /^[^:]*: RetCode -?\d+: ([\s\S]*)$/.exec(e.message);
    return { retCode: e.retCode, message: m?.[1] ?? e.message };
  }
  return { retCode: -1, message: e instanceof Error ? e.message : String(e) };
}
