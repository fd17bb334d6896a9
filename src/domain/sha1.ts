import * as crypto from "node:crypto";

/**
 * SHA-1 of a UTF-8 string. The one-shot `crypto.hash` (Node ≥ 20.12) skips the Hash object that
 * `createHash` allocates per call, which showed in Describe's profile (four digests per instance
 * and one per request); older Node 20 releases take the long way.
 */
export const sha1: (s: string) => Buffer =
  typeof crypto.hash === "function"
    ? (s) => crypto.hash("sha1", s, "buffer")
    : (s) => crypto.createHash("sha1").update(s, "utf8").digest();

/** Lowercase hex SHA-1 of a UTF-8 string. */
export const sha1Hex: (s: string) => string =
  typeof crypto.hash === "function"
    ? (s) => crypto.hash("sha1", s, "hex")
    : (s) => crypto.createHash("sha1").update(s, "utf8").digest("hex");
