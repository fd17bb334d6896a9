import { timingSafeEqual } from "node:crypto";
import { sha1Hex } from "../domain/sha1.js";
import type { WireValue } from "./sign-string.js";
import { signingPayload } from "./sign-string.js";

export type { WireValue } from "./sign-string.js";
export { byteOrder, signString } from "./sign-string.js";

/**
 * Computes the signature over every parameter except `Signature`: lowercase hex SHA1 of the sorted
 * `key+value` concatenation followed by the private key. Not HMAC; the private key is never sent.
 */
export function computeSignature(params: Record<string, WireValue>, privateKey: string): string {
  return sha1Hex(signingPayload(params) + privateKey);
}

/** Constant-time comparison of a received signature with the expected one. */
export function signatureMatches(received: string, expected: string): boolean {
  const a = Buffer.from(received.toLowerCase(), "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}
