import type { ParamValue } from "./form.js";
import { flatten } from "./form.js";
import type { WireValue } from "./signature.js";
import { computeSignature } from "./signature.js";

export type { ParamValue } from "./form.js";
export { flatten } from "./form.js";

/** Builds a signed form body: flatten, add PublicKey, sign. */
export function signedForm(
  params: Record<string, ParamValue>,
  publicKey: string,
  privateKey: string,
): URLSearchParams {
  const flat = flatten({ ...params, PublicKey: publicKey });
  const body = new URLSearchParams(flat);
  body.set("Signature", computeSignature(flat as Record<string, WireValue>, privateKey));
  return body;
}
