// Counters of the referral signals: sign-ups through one link or from one address in a fixed window.
// A counter moves in the same statement that reads it (INSERT … ON CONFLICT DO UPDATE … RETURNING),
// so sign-ups arriving together each see their own count and none slips under a limit.
import { lt, type SQL, sql } from "drizzle-orm";
import type { Window } from "../accounts/throttle.js";
import type { Queryable } from "./connection.js";
import { signalCounters } from "./schema.js";

/** A fixed window (`currentWindow` in accounts/throttle.ts makes them). */
export type SignalWindow = Pick<Window, "start" | "end">;

/**
 * Counts one hit on the bucket for each row of `source` (a query giving a `bucket` column),
 * returning the counts after it.
 */
export function countHits(source: SQL, window: SignalWindow): SQL {
  return sql`INSERT INTO ${signalCounters} (bucket, window_start, hits, expires_at)
    SELECT bucket, ${window.start.toISOString()}::timestamptz, 1, ${window.end.toISOString()}::timestamptz
    FROM (${source}) AS counted
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = ${signalCounters}.hits + 1
    RETURNING hits`;
}

/** Gives back hits counted for a sign-up that did not happen. */
export async function releaseHits(
  db: Queryable,
  hits: readonly { bucket: string; window: SignalWindow }[],
): Promise<void> {
  for (const hit of hits) {
    await db.execute(sql`UPDATE ${signalCounters} SET hits = hits - 1
      WHERE bucket = ${hit.bucket} AND window_start = ${hit.window.start.toISOString()}::timestamptz AND hits > 0`);
  }
}

/** Drops the counters whose window has ended. Returns how many. */
export async function purgeEndedSignalCounters(db: Queryable, now: Date): Promise<number> {
  const deleted = await db
    .delete(signalCounters)
    .where(lt(signalCounters.expiresAt, now))
    .returning({ bucket: signalCounters.bucket });
  return deleted.length;
}
