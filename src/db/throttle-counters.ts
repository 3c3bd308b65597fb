// The throttle counters' table, as parts of the statements of the stores that reserve attempts: a
// counter is checked and moved in one statement, so requests arriving together cannot all pass.
import { lt, type SQL, sql } from "drizzle-orm";
import type { ThrottleCounter } from "../accounts/throttle.js";
import type { Queryable } from "./connection.js";
import { throttleCounters } from "./schema.js";

function windowOf(counter: Pick<ThrottleCounter, "windowStart">): SQL {
  return sql`${counter.windowStart.toISOString()}::timestamptz`;
}

/**
 * Counts one hit when `reserve` holds and the counter is under its limit: the row returned is the
 * reservation; no row means the limit was reached (or nothing was asked).
 */
export function reserveHit(counter: ThrottleCounter, reserve: boolean | SQL): SQL {
  const when = typeof reserve === "boolean" ? sql`${reserve}::boolean` : reserve;
  return sql`INSERT INTO ${throttleCounters} (bucket, window_start, hits)
    SELECT ${counter.bucket}, ${windowOf(counter)}, 1 WHERE ${when} AND ${counter.limit}::integer > 0
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = ${throttleCounters}.hits + 1
      WHERE ${throttleCounters}.hits < ${counter.limit}::integer
    RETURNING hits`;
}

/**
 * reserveHit for a counter whose bucket the statement itself finds: one hit for each row of
 * `source` (a query giving a `bucket` column), under the counter's limit; the rows returned are the
 * reservations. For a limit per account when the statement is what looks the account up.
 */
export function reserveHitsFrom(source: SQL, counter: Omit<ThrottleCounter, "bucket">): SQL {
  return sql`INSERT INTO ${throttleCounters} (bucket, window_start, hits)
    SELECT bucket, ${windowOf(counter)}, 1 FROM (${source}) AS counted WHERE ${counter.limit}::integer > 0
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = ${throttleCounters}.hits + 1
      WHERE ${throttleCounters}.hits < ${counter.limit}::integer
    RETURNING hits`;
}

/** The counter's hits as the statement found them (0 when absent). */
export function hitsOf(counter: ThrottleCounter): SQL {
  return sql`COALESCE((SELECT hits FROM ${throttleCounters}
    WHERE bucket = ${counter.bucket} AND window_start = ${windowOf(counter)}), 0)`;
}

/** Gives back a hit reserved by reserveHit. */
export function releaseHit(counter: ThrottleCounter): SQL {
  return sql`UPDATE ${throttleCounters} SET hits = hits - 1
    WHERE bucket = ${counter.bucket} AND window_start = ${windowOf(counter)} AND hits > 0`;
}

/** Forgets every window of a bucket (a right password clears the username's failures). */
export function clearBucket(bucket: string): SQL {
  return sql`DELETE FROM ${throttleCounters} WHERE bucket = ${bucket}`;
}

/** Gives back a reservation outside any other statement (a request refused after reserving). */
export async function releaseReservation(db: Queryable, counter: ThrottleCounter): Promise<void> {
  await db.execute(releaseHit(counter));
}

/** Drops the counters of windows that began before `before`. Returns how many. */
export async function purgeCountersBefore(db: Queryable, before: Date): Promise<number> {
  const deleted = await db
    .delete(throttleCounters)
    .where(lt(throttleCounters.windowStart, before))
    .returning({ bucket: throttleCounters.bucket });
  return deleted.length;
}
