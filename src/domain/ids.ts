import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Random lowercase alphanumerics; 36^8 ≈ 2.8e12 ids per prefix, so collisions are not a concern. */
export function randomId(prefix: string, length = 8): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}-${out}`;
}

/** Id generator, injected so tests can make ids predictable. */
export interface IdGen {
  next(prefix: string, length?: number): string;
}

export const randomIds: IdGen = { next: randomId };

/** A fresh key pair in the shape of the real service's keys (opaque strings). */
export function newKeyPair(): { publicKey: string; privateKey: string } {
  return {
    publicKey: randomBytes(24).toString("base64url"),
    privateKey: randomBytes(30).toString("base64url"),
  };
}
