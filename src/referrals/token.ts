// Referral tokens: 128 random bits, URL-safe, never changing.
import { randomBytes } from "node:crypto";

const TOKEN_BYTES = 16;
const tokenPattern = /^[A-Za-z0-9_-]{22}$/;

export function newReferralToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

/** A token of the right shape; anything else is ignored without touching the database. */
export function isWellFormedReferralToken(value: unknown): value is string {
  return typeof value === "string" && tokenPattern.test(value);
}
