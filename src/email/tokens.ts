// The tokens of the links sent by email (verifying an address, resetting a password): 256 random
// bits in the link, and only their SHA-256 in email_tokens, so a copy of the database opens nothing.
import { createHash, randomBytes } from "node:crypto";

/** How long a link works. */
export const VERIFY_TOKEN_SECONDS = 48 * 3600;
export const RESET_TOKEN_SECONDS = 3600;

export interface NewEmailToken {
  /** What the link carries. */
  token: string;
  /** What email_tokens keeps. */
  hash: string;
}

const tokenPattern = /^[A-Za-z0-9_-]{43}$/;

export function hashEmailToken(token: string): string {
  return createHash("sha256").update(`email-token:${token}`).digest("base64url");
}

export function newEmailToken(): NewEmailToken {
  const token = randomBytes(32).toString("base64url");
  return { token, hash: hashEmailToken(token) };
}

/** The stored hash of a token from a link or a form, or null when it cannot be one of ours. */
export function emailTokenHashOf(value: unknown): string | null {
  return typeof value === "string" && tokenPattern.test(value) ? hashEmailToken(value) : null;
}
