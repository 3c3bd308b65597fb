// What staff read to review held referrals: the queue (newest first, paged), with each inviter's
// other referrals beside it, and the number waiting for the admin's navigation.
import { sql } from "drizzle-orm";
import { bigintArray, dateOrNull, type Queryable, queryRows } from "../db/connection.js";
import { type ReferralStatus, referrals, users } from "../db/schema.js";
import { afterId, idCursor, type Page, type PageRequest, pageOf } from "../paging.js";

/** Held referrals per page of the queue, unless the request asks for another number. */
export const REVIEW_PER_PAGE = 50;
/** How many of an inviter's other referrals the queue names beside each held one. */
export const INVITER_LATEST_SHOWN = 5;

export interface InviterReferral {
  referralId: number;
  inviteeId: number;
  username: string;
  status: ReferralStatus;
}

export interface HeldReferral {
  id: number;
  inviteeId: number;
  inviteeUsername: string;
  inviterId: number;
  inviterUsername: string;
  createdAt: Date;
  /** The signals that hold it; empty when only the hold for everyone does. */
  signals: string[];
  holdUntil: Date | null;
  /** The invitee's credit waiting for the decision. */
  pendingCents: number;
  /** The inviter's referrals other than this one, by status. */
  inviterReferrals: Record<ReferralStatus, number>;
  /** The inviter's latest referrals other than this one, newest first. */
  inviterLatest: InviterReferral[];
}

/** How many referrals are held: for the navigation (an index-only count on referrals_status_created_idx). */
export async function countHeld(db: Queryable): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM ${referrals} WHERE status = 'held'`,
  );
  return Number(row?.n ?? 0);
}

/**
 * One page of the held referrals, newest first (the order of referrals_status_created_idx read
 * backwards); the cursor is the last referral's id, whose creation time never changes even once it
 * is decided. Then, for the page's inviters only, their referrals counted by status and their latest
 * few (referrals_inviter_created_idx): two more statements, whatever the page's size.
 */
export async function listHeld(db: Queryable, page: PageRequest): Promise<Page<HeldReferral>> {
  const after = afterId(page.cursor);
  const rows = await queryRows<{
    id: string | number;
    invitee_id: string | number;
    invitee_username: string;
    inviter_id: string | number;
    inviter_username: string;
    created_at: string | Date;
    signals: string[] | null;
    hold_until: string | Date | null;
    pending_cents: string | number;
  }>(
    db,
    sql`SELECT r.id, r.invitee_id, e.username AS invitee_username, r.inviter_id, i.username AS inviter_username,
               r.created_at, r.signals, r.hold_until, e.pending_cents
        FROM ${referrals} r
        JOIN ${users} e ON e.id = r.invitee_id
        JOIN ${users} i ON i.id = r.inviter_id
        WHERE r.status = 'held'${
          after === null
            ? sql``
            : sql` AND (r.created_at, r.id) < (SELECT created_at, id FROM ${referrals} WHERE id = ${after}::bigint)`
        }
        ORDER BY r.created_at DESC, r.id DESC
        LIMIT ${page.size + 1}`,
  );
  const listed = pageOf(rows, page.size, (last) => idCursor(Number(last.id)));
  const inviterIds = [...new Set(listed.items.map((row) => Number(row.inviter_id)))];
  const counts = new Map<number, Record<ReferralStatus, number>>();
  const latest = new Map<number, (InviterReferral & { inviterId: number })[]>();
  if (inviterIds.length > 0) {
    const countRows = await queryRows<{ inviter_id: string | number; status: ReferralStatus; n: number }>(
      db,
      sql`SELECT inviter_id, status, count(*)::int AS n FROM ${referrals}
          WHERE inviter_id = ANY(${bigintArray(inviterIds)})
          GROUP BY inviter_id, status`,
    );
    for (const row of countRows) {
      const inviterId = Number(row.inviter_id);
      const byStatus = counts.get(inviterId) ?? { approved: 0, held: 0, rejected: 0 };
      if (Object.hasOwn(byStatus, row.status)) byStatus[row.status] = Number(row.n);
      counts.set(inviterId, byStatus);
    }
    // One more than shown: the held referral itself may be among an inviter's latest.
    const latestRows = await queryRows<{
      inviter_id: string | number;
      referral_id: string | number;
      invitee_id: string | number;
      username: string;
      status: ReferralStatus;
    }>(
      db,
      sql`SELECT p.inviter_id, x.id AS referral_id, x.invitee_id, u.username, x.status
          FROM unnest(${bigintArray(inviterIds)}) AS p(inviter_id)
          CROSS JOIN LATERAL (
            SELECT id, invitee_id, status, created_at FROM ${referrals}
            WHERE inviter_id = p.inviter_id
            ORDER BY created_at DESC, id DESC
            LIMIT ${INVITER_LATEST_SHOWN + 1}
          ) x
          JOIN ${users} u ON u.id = x.invitee_id
          ORDER BY p.inviter_id, x.created_at DESC, x.id DESC`,
    );
    for (const row of latestRows) {
      const inviterId = Number(row.inviter_id);
      const list = latest.get(inviterId) ?? [];
      list.push({
        inviterId,
        referralId: Number(row.referral_id),
        inviteeId: Number(row.invitee_id),
        username: row.username,
        status: row.status,
      });
      latest.set(inviterId, list);
    }
  }
  return {
    nextCursor: listed.nextCursor,
    items: listed.items.map((row) => {
      const id = Number(row.id);
      const inviterId = Number(row.inviter_id);
      const all = counts.get(inviterId) ?? { approved: 0, held: 0, rejected: 0 };
      return {
        id,
        inviteeId: Number(row.invitee_id),
        inviteeUsername: row.invitee_username,
        inviterId,
        inviterUsername: row.inviter_username,
        createdAt: new Date(row.created_at),
        signals: row.signals ?? [],
        holdUntil: dateOrNull(row.hold_until),
        pendingCents: Number(row.pending_cents),
        // The counts include this referral, which is held: the others are one fewer held.
        inviterReferrals: { ...all, held: Math.max(0, all.held - 1) },
        inviterLatest: (latest.get(inviterId) ?? [])
          .filter((other) => other.referralId !== id)
          .slice(0, INVITER_LATEST_SHOWN)
          .map(({ inviterId: _, ...other }) => other),
      };
    }),
  };
}
