// Throttling of password guessing, mass sign-ups and messages with a link: which fixed-window
// counters a request uses and their limits. Pure: the stores reserve and release the counters in the
// database.
import { createHash } from "node:crypto";
import type { ThrottleConfig } from "../config.js";
import { Throttled } from "../errors.js";
import { usernameKey } from "./username.js";

export type ThrottleKind = "login" | "signup" | "email" | "api";

export interface Window {
  start: Date;
  end: Date;
  /** Seconds until the window ends: the Retry-After of a refusal. */
  secondsLeft: number;
}

/** The fixed window `now` falls in. */
export function currentWindow(now: number, windowSeconds: number): Window {
  const size = windowSeconds * 1000;
  const start = Math.floor(now / size) * size;
  return {
    start: new Date(start),
    end: new Date(start + size),
    secondsLeft: Math.max(1, Math.ceil((start + size - now) / 1000)),
  };
}

/** At most `limit` hits in the bucket's window that starts at `windowStart`. */
export interface ThrottleCounter {
  bucket: string;
  windowStart: Date;
  limit: number;
}

export interface LoginCounters {
  /** Failures per username (the key that identifies the user), from browsers it does not know. */
  user: ThrottleCounter | null;
  /** Failures from a browser that has logged in to the account before: it never uses the user's. */
  device: ThrottleCounter | null;
  address: ThrottleCounter;
}

export function loginCounters(
  username: string | null,
  client: { address: string; deviceIdHash: string | null },
  config: ThrottleConfig,
  now: number,
): LoginCounters {
  const windowStart = currentWindow(now, config.windowSeconds).start;
  const limit = config.loginFailuresPerWindow;
  const device = client.deviceIdHash;
  return {
    user: username === null ? null : { bucket: loginUserBucket(username), windowStart, limit },
    device:
      device === null || username === null ? null : { bucket: `login:device:${device}`, windowStart, limit },
    address: { bucket: `login:addr:${client.address}`, windowStart, limit },
  };
}

/** Every window of this username's failure counter (a right password clears them). */
export function loginUserBucket(username: string): string {
  return `login:user:${usernameKey(username).slice(0, 200)}`;
}

/** The counter of sign-ups from one client address. */
export function signupCounter(address: string, config: ThrottleConfig, now: number): ThrottleCounter {
  const windowStart = currentWindow(now, config.windowSeconds).start;
  return { bucket: `signup:addr:${address}`, windowStart, limit: config.signupsPerWindow };
}

/**
 * Messages with a link sent per window of THROTTLE_WINDOW_SECONDS, to one address and for one
 * account: a password reset at most 3 times, a verification 5 (a typo fixed, a message lost). Enough
 * for a person; too few to use the service to flood someone's inbox.
 */
export const linkEmailLimits = { reset: 3, verify: 5 } as const;

export type LinkEmailPurpose = keyof typeof linkEmailLimits;

export interface LinkEmailCounters {
  /** Messages to one address; the bucket names a digest of its key, never the address itself. */
  address: ThrottleCounter;
  /** Messages for one account: the bucket is this prefix and the account's id. */
  accountPrefix: string;
  windowStart: Date;
  limit: number;
}

export function linkEmailCounters(
  purpose: LinkEmailPurpose,
  emailKey: string,
  config: ThrottleConfig,
  now: number,
): LinkEmailCounters {
  const windowStart = currentWindow(now, config.windowSeconds).start;
  const limit = linkEmailLimits[purpose];
  const digest = createHash("sha256").update(emailKey).digest("base64url").slice(0, 32);
  return {
    address: { bucket: `${purpose}:addr:${digest}`, windowStart, limit },
    accountPrefix: `${purpose}:user:`,
    windowStart,
    limit,
  };
}

/** The account's counter of link messages, when the account is known before the statement. */
export function accountCounter(counters: LinkEmailCounters, userId: number): ThrottleCounter {
  return {
    bucket: `${counters.accountPrefix}${userId}`,
    windowStart: counters.windowStart,
    limit: counters.limit,
  };
}

/** The refusal of a throttled request, with the seconds left in the window. */
export function throttled(config: ThrottleConfig, now: number): Throttled {
  return new Throttled(currentWindow(now, config.windowSeconds).secondsLeft);
}
