// Throttling of credential guessing and mass sign-ups: fixed-window counters kept in the database,
// so every server process shares them.
import { eq, lt, type SQL, sql } from "drizzle-orm";
import type { ThrottleConfig } from "../config.js";
import { type Database, queryRows } from "../db/connection.js";
import type { DependentCheck, DependentWrite } from "../db/dependent-writes.js";
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

  /** The current window's start, as a timestamptz parameter. */
  private windowStart(): SQL {
    return sql`${this.window().start.toISOString()}::timestamptz`;
  }

  /** The window's count in the bucket, as a scalar expression (0 when absent). */
  private hitsIn(bucket: string, windowStart: SQL): SQL {
    return sql`COALESCE((SELECT hits FROM ${throttleCounters}
      WHERE bucket = ${bucket} AND window_start = ${windowStart}), 0)`;
  }

  /** Counts one hit in the bucket's current window for each row of `from`. */
  private countHit(bucket: string, from: SQL): SQL {
    return sql`INSERT INTO ${throttleCounters} (bucket, window_start, hits)
      SELECT ${bucket}, ${this.windowStart()}, 1 FROM ${from}
      ON CONFLICT (bucket, window_start) DO UPDATE SET hits = ${throttleCounters}.hits + 1`;
  }

  async record(bucket: string): Promise<number> {
    const rows = await queryRows<{ hits: number }>(
      this.db,
      sql`${this.countHit(bucket, sql`(SELECT 1) AS one`)} RETURNING hits`,
    );
    return rows[0]?.hits ?? 1;
  }

  async reset(bucket: string): Promise<void> {
    await this.db.delete(throttleCounters).where(eq(throttleCounters.bucket, bucket));
  }

  /** Throws Throttled when `hits` has reached `limit`. */
  private refuseAt(kind: ThrottleKind, hits: number, limit: number): void {
    if (hits >= limit) {
      this.onThrottled(kind);
      throw new Throttled(this.window().secondsLeft);
    }
  }

  /**
   * Both login limits, read by the login's user lookup (see DependentCheck): refuses a login over
   * either, else says whether this username has failures to clear.
   */
  loginAllowed(username: string, address: string): DependentCheck<{ usernameHasFailures: boolean }> {
    // One window for both buckets, even when the clock crosses into the next between them.
    const windowStart = this.windowStart();
    return {
      value: sql`ARRAY[${this.hitsIn(buckets.loginUser(username), windowStart)}, ${this.hitsIn(buckets.loginAddress(address), windowStart)}]`,
      enforce: (value) => {
        const [userHits = 0, addressHits = 0] = Array.isArray(value) ? value.map(Number) : [];
        this.refuseAt("login", Math.max(userHits, addressHits), this.config.loginFailuresPerWindow);
        return { usernameHasFailures: userHits > 0 };
      },
    };
  }

  async loginFailed(username: string, address: string): Promise<void> {
    await Promise.all([this.record(buckets.loginUser(username)), this.record(buckets.loginAddress(address))]);
  }

  /**
   * A right password clears that username's failures (not the address's). Callers skip it when
   * loginAllowed saw none: most logins then write nothing here (one statement and commit fewer).
   */
  loginSucceeded(username: string): Promise<void> {
    return this.reset(buckets.loginUser(username));
  }

  /**
   * Refuses a sign-up from an address at its limit. Read by the sign-up's own read before the hash
   * (see DependentCheck): one round trip fewer than a query of its own.
   */
  signupAllowed(address: string): DependentCheck {
    return {
      value: this.hitsIn(buckets.signupAddress(address), this.windowStart()),
      enforce: (hits) => this.refuseAt("signup", Number(hits ?? 0), this.config.signupsPerWindow),
    };
  }

  /** Counts a sign-up from this address, in the sign-up's own statement (see DependentWrite). */
  signupCounted(address: string): DependentWrite {
    return (created) => this.countHit(buckets.signupAddress(address), created);
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
