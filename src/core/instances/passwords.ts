import { randomInt } from "node:crypto";
import { badParam } from "../../domain/errors.js";

const SPECIAL = "()`~!@#$%^&*-+=_|{}[]:;'<>,.?/";
const ALLOWED = new RegExp(`^[A-Za-z0-9${SPECIAL.replace(/[\]\\^-]/g, "\\$&")}]+$`);

/**
 * Passwords arrive base64-encoded (docs: Create, Reinstall, ResetCompShareInstancePassword).
 * Rule before encoding: 8–32 characters, at least two of upper/lower/digit/special, only
 * `[A-Za-z0-9]` and ``()`~!@#$%^&*-+=_|{}[]:;'<>,.?/``.
 */
export function decodePassword(b64: string, param: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0)
    throw badParam(param, "must be base64-encoded");
  const plain = Buffer.from(b64, "base64").toString("utf8");
  checkPassword(plain, param);
  return plain;
}

export function checkPassword(plain: string, param: string): void {
  if (plain.length < 8 || plain.length > 32)
    throw badParam(param, "must be 8 to 32 characters before base64 encoding");
  if (!ALLOWED.test(plain)) throw badParam(param, `may contain only letters, digits and ${SPECIAL}`);
  const classes = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(plain)).length;
  if (classes < 2)
    throw badParam(param, "needs at least two of: upper case, lower case, digits, special characters");
}

/** A random password that satisfies the rule (all four classes, 16 characters). */
export function generatePassword(): string {
  const sets = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!@#%^*-_"];
  const all = sets.join("");
  const chars = sets.map((s) => s[randomInt(s.length)] as string);
  while (chars.length < 16) chars.push(all[randomInt(all.length)] as string);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join("");
}
