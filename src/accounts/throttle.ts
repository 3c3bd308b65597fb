// Throttling of password guessing and mass sign-ups: which fixed-window counters a request uses and
// their limits. Pure: the stores reserve and release the counters in the database.
import type { ThrottleConfig } from "../config.js";
import { Throttled } from "../errors.js";
import { usernameKey } from "./username.js";

export type ThrottleKind = "login" | "signup";

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
function loginUserBucket(username: string): string {
  return `login:user:${usernameKey(username).slice(0, 200)}`;
}

/** The counter of sign-ups from one client address. */
export function signupCounter(address: string, config: ThrottleConfig, now: number): ThrottleCounter {
  const windowStart = currentWindow(now, config.windowSeconds).start;
  return { bucket: `signup:addr:${address}`, windowStart, limit: config.signupsPerWindow };
}

/** The refusal of a throttled request, with the seconds left in the window. */
export function throttled(config: ThrottleConfig, now: number): Throttled {
  return new Throttled(currentWindow(now, config.windowSeconds).secondsLeft);
}
