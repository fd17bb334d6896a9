import type { Principal } from "../core/accounts/accounts.js";
import type { AccountService } from "../core/accounts/accounts.js";
import { ApiError, badParam } from "../domain/errors.js";
import type { WireValue } from "../protocol/signature.js";
import { computeSignature, signatureMatches } from "../protocol/signature.js";

/**
 * Checks `PublicKey` and `Signature` of a decoded request (every parameter as received is signed)
 * and returns the caller: the one authentication of every Action and of the event stream.
 */
export async function authenticate(
  accounts: AccountService,
  signParams: Record<string, WireValue>,
): Promise<Principal> {
  const publicKey = signParams.PublicKey;
  if (publicKey === undefined || publicKey === "")
    throw new ApiError("MissingSignature", { param: "PublicKey" });
  if (typeof publicKey !== "string") throw badParam("PublicKey", "must be a string");
  const signature = signParams.Signature;
  if (signature === undefined || signature === "")
    throw new ApiError("MissingSignature", { param: "Signature" });
  if (typeof signature !== "string") throw badParam("Signature", "must be a string");
  const key = await accounts.resolveKey(publicKey);
  if (!key) throw new ApiError("UserNotExists");
  if (!signatureMatches(signature, computeSignature(signParams, key.privateKey)))
    throw new ApiError("SignatureError");
  const account = await accounts.account(key.accountId);
  if (!account) throw new ApiError("UserNotExists");
  return { account, publicKey };
}
