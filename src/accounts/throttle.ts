// Throttling of credential guessing and mass sign-ups: fixed-window counters kept in the database,
// so every server process shares them.
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { ThrottleConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import { throttleCounters } from "../db/schema.js";
import { Throttled } from "../errors.js";
import { usernameKey } from "./username.js";

export type ThrottleKind = "login" | "signup";

export interface Window {
  start: Date;
  /** Seconds until the window ends: the Retry-After of a refusal. */
  secondsLeft: number;
}

/** The fixed window `now` falls in. */
export function currentWindow(now: number, windowSeconds: number): Window {
  const size = windowSeconds * 1000;
  const start = Math.floor(now / size) * size;
  return { start: new Date(start), secondsLeft: Math.max(1, Math.ceil((start + size - now) / 1000)) };
}

export const buckets = {
  loginUser: (username: string) => `login:user:${usernameKey(username).slice(0, 200)}`,
  loginAddress: (address: string) => `login:addr:${address}`,
  signupAddress: (address: string) => `signup:addr:${address}`,
};

export class Throttle {
  constructor(
    private readonly db: Database,
    private readonly config: ThrottleConfig,
    private readonly clock: () => number = Date.now,
    private readonly onThrottled: (kind: ThrottleKind) => void = () => {},
  ) {}

  private window(): Window {
    return currentWindow(this.clock(), this.config.windowSeconds);
  }

  async hits(bucketNames: string[]): Promise<number> {
    const window = this.window();
    const rows = await this.db
      .select({ hits: sql<number>`coalesce(max(${throttleCounters.hits}), 0)::int` })
      .from(throttleCounters)
      .where(
        and(inArray(throttleCounters.bucket, bucketNames), eq(throttleCounters.windowStart, window.start)),
      );
    return rows[0]?.hits ?? 0;
  }

  async record(bucket: string): Promise<number> {
    const window = this.window();
    const rows = await this.db
      .insert(throttleCounters)
      .values({ bucket, windowStart: window.start, hits: 1 })
      .onConflictDoUpdate({
        target: [throttleCounters.bucket, throttleCounters.windowStart],
        set: { hits: sql`${throttleCounters.hits} + 1` },
      })
      .returning({ hits: throttleCounters.hits });
    return rows[0]?.hits ?? 1;
  }

  async reset(bucket: string): Promise<void> {
    await this.db.delete(throttleCounters).where(eq(throttleCounters.bucket, bucket));
  }

  /** Throws Throttled when any of the buckets has reached `limit` in this window. */
  private async refuseOver(kind: ThrottleKind, bucketNames: string[], limit: number): Promise<void> {
    if ((await this.hits(bucketNames)) >= limit) {
      this.onThrottled(kind);
      throw new Throttled(this.window().secondsLeft);
    }
  }

  beforeLogin(username: string, address: string): Promise<void> {
    return this.refuseOver(
      "login",
      [buckets.loginUser(username), buckets.loginAddress(address)],
      this.config.loginFailuresPerWindow,
    );
  }

  async loginFailed(username: string, address: string): Promise<void> {
    await Promise.all([this.record(buckets.loginUser(username)), this.record(buckets.loginAddress(address))]);
  }

  /** A right password clears that username's failures (not the address's). */
  loginSucceeded(username: string): Promise<void> {
    return this.reset(buckets.loginUser(username));
  }

  beforeSignup(address: string): Promise<void> {
    return this.refuseOver("signup", [buckets.signupAddress(address)], this.config.signupsPerWindow);
  }

  async signedUp(address: string): Promise<void> {
    await this.record(buckets.signupAddress(address));
  }

  /** Drops counters of windows that have ended. */
  async purgeExpired(): Promise<number> {
    const deleted = await this.db
      .delete(throttleCounters)
      .where(lt(throttleCounters.windowStart, this.window().start))
      .returning({ bucket: throttleCounters.bucket });
    return deleted.length;
  }
}
