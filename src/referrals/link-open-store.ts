// Storage of link opens: the counts per inviter per UTC day (link_open_counts) and each inviter's
// all-time total (users.link_opens, read by the session query), written together.
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import { linkOpenCounts, users } from "../db/schema.js";
import type { LinkOpenCount } from "./link-opens.js";

/**
 * Adds a batch of counts in one statement: an upsert per (inviter, day) and the inviter's total.
 * The rows come sorted by inviter, so two processes flushing at once take the row locks in the same
 * order; should they still deadlock, the counter keeps the batch for its next flush.
 */
export async function addLinkOpens(db: Queryable, counts: readonly LinkOpenCount[]): Promise<void> {
  if (counts.length === 0) return;
  const rows = JSON.stringify(counts.map((c) => ({ inviter_id: c.inviterId, day: c.day, opens: c.opens })));
  await queryRows(
    db,
    sql`WITH batch AS (
      SELECT * FROM jsonb_to_recordset(${rows}::jsonb) AS c(inviter_id bigint, day text, opens integer)
    ), per_day AS (
      INSERT INTO ${linkOpenCounts} (inviter_id, day, opens)
      SELECT inviter_id, day, opens FROM batch ORDER BY inviter_id, day
      ON CONFLICT (inviter_id, day) DO UPDATE SET opens = ${linkOpenCounts}.opens + excluded.opens
    )
    UPDATE ${users} SET link_opens = ${users}.link_opens + totals.opens
    FROM (SELECT inviter_id, sum(opens)::bigint AS opens FROM batch GROUP BY inviter_id) AS totals
    WHERE ${users}.id = totals.inviter_id`,
  );
}
