// Referral tokens: 128 random bits, URL-safe, never changing. Links made by the earlier Django
// version carry 32 lowercase hex digits (also 128 bits); `npm run import:django` keeps them, so both
// shapes are tokens.
import { randomBytes } from "node:crypto";

const TOKEN_BYTES = 16;
const tokenPattern = /^[A-Za-z0-9_-]{22}$/;
/** A token of the earlier Django version's links. */
const djangoTokenPattern = /^[0-9a-f]{32}$/;

export function newReferralToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

/** A token of the right shape; anything else is ignored without touching the database. */
export function isWellFormedReferralToken(value: unknown): value is string {
  return typeof value === "string" && (tokenPattern.test(value) || djangoTokenPattern.test(value));
}

/** A token as the earlier Django version wrote it, which the import carries over unchanged. */
export function isDjangoReferralToken(value: unknown): value is string {
  return typeof value === "string" && djangoTokenPattern.test(value);
}
