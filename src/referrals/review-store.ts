// Storage of the review of held referrals: deciding a referral (once), posting or voiding its pending
// credit, counting it for the inviter, and finding the ones due at the end of their hold. (The queue
// staff read is src/admin/review-queue.ts.)
import { sql } from "drizzle-orm";
import { bigintArray, type Queryable, queryRows } from "../db/connection.js";
import { ledgerEntries, referrals, users } from "../db/schema.js";

export interface Decided {
  inviterId: number;
  inviteeId: number;
}

/**
 * Marks a held referral approved or rejected. Only one decision ever matches: a second one, even
 * one that waited for this row's lock, finds it no longer held and gets null.
 */
export async function decideHeld(
  tx: Queryable,
  decision: {
    referralId: number;
    status: "approved" | "rejected";
    staffId: number | null;
    reason: string | null;
    staffNote: string | null;
  },
): Promise<Decided | null> {
  const [row] = await queryRows<{ inviter_id: string; invitee_id: string }>(
    tx,
    sql`UPDATE ${referrals} SET status = ${decision.status}, decided_at = now(),
          decided_by_id = ${decision.staffId}::bigint, reason = ${decision.reason}, staff_note = ${decision.staffNote}
        WHERE id = ${decision.referralId} AND status = 'held'
        RETURNING inviter_id, invitee_id`,
  );
  return row ? { inviterId: Number(row.inviter_id), inviteeId: Number(row.invitee_id) } : null;
}

/**
 * The invitee's pending credits from this referral become posted (added to the balance) or void
 * (gone), and the pending total moves with them. Returns the amount moved.
 */
export async function settlePending(
  tx: Queryable,
  inviteeId: number,
  to: "posted" | "void",
): Promise<number> {
  const [row] = await queryRows<{ settled: string | number | null }>(
    tx,
    sql`WITH settled AS (
          UPDATE ${ledgerEntries} SET status = ${to}
          WHERE user_id = ${inviteeId} AND signup_user_id = ${inviteeId} AND status = 'pending'
          RETURNING amount_cents
        ), total AS (SELECT COALESCE(SUM(amount_cents), 0) AS cents FROM settled)
        UPDATE ${users} SET pending_cents = pending_cents - total.cents,
          balance_cents = balance_cents + ${to === "posted" ? sql`total.cents` : sql`0`}
        FROM total WHERE id = ${inviteeId}
        RETURNING total.cents AS settled`,
  );
  return Number(row?.settled ?? 0);
}

/**
 * Counts an approved referral for an active inviter, under the inviter's row lock: the new count the
 * reward rule runs on (with the progress carried over from the Django version, rules.ts).
 */
export async function countApproved(tx: Queryable, inviterId: number): Promise<number | null> {
  const [row] = await queryRows<{ reward_count: number }>(
    tx,
    sql`UPDATE ${users} SET referred_count = referred_count + 1 WHERE id = ${inviterId} AND is_active
        RETURNING referred_count + carried_referrals AS reward_count`,
  );
  return row ? Number(row.reward_count) : null;
}

/** Held referrals whose hold for everyone has ended and that no signal holds, oldest first. */
export async function dueForApproval(db: Queryable, now: Date, limit: number): Promise<number[]> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`SELECT id FROM ${referrals}
        WHERE status = 'held' AND hold_until <= ${now.toISOString()}::timestamptz AND cardinality(signals) = 0
        ORDER BY hold_until, id LIMIT ${limit}`,
  );
  return rows.map((row) => Number(row.id));
}

/** Which of the referrals have `userId` as their inviter or invitee. */
export async function referralsInvolving(
  db: Queryable,
  referralIds: readonly number[],
  userId: number,
): Promise<number[]> {
  if (referralIds.length === 0) return [];
  const rows = await queryRows<{ id: string }>(
    db,
    sql`SELECT id FROM ${referrals}
        WHERE id = ANY(${bigintArray(referralIds)}) AND ${userId}::bigint IN (inviter_id, invitee_id)`,
  );
  return rows.map((row) => Number(row.id));
}
