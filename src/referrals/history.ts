// What a user can look back on: their credit history (the ledger, with a running balance) and the
// people who joined through their link. Newest first, read in pages with an opaque cursor.
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import type { LedgerKind, LedgerStatus, ReferralStatus } from "../db/schema.js";
import { afterId, idCursor, type Page, type PageRequest, pageBothWays } from "../paging.js";

/** Rows per page of a user's own lists, unless the request asks for another number. */
export const PAGE_SIZE_DEFAULT = 20;

export interface LedgerLine {
  id: number;
  createdAt: Date;
  amountCents: number;
  kind: LedgerKind;
  /** Posted (in the balance), pending (held for review) or void (rejected). */
  status: LedgerStatus;
  /** The user's balance just after this entry (posted entries only). */
  balanceAfterCents: number;
  /** For a reward cut by the monthly limit: the part not paid. */
  cappedCents: number | null;
  /** For a welcome bonus that was rejected: the reason the user is given. */
  decisionReason: string | null;
  /** For a bonus or reward: the person whose sign-up caused it. */
  signupUsername: string | null;
  /** For a welcome bonus: whose link the user joined through. */
  inviterUsername: string | null;
  referralCount: number | null;
  reason: string | null;
}

export interface Referral {
  id: number;
  username: string;
  joinedAt: Date;
  status: ReferralStatus;
  /** Why it was rejected (or approved), in words meant for the user; null without one. */
  reason: string | null;
  /** It completed a five after the inviter reached the monthly limit of rewards. */
  capped: boolean;
}

/**
 * The user's ledger, newest first, each line with the balance it left. The running balance is a
 * window over the user's own entries (a few per referral milestone), read through the
 * (user_id, created_at, id) index; the cursor is a (created_at, id) position, so pages never skip
 * or repeat entries written in the same transaction.
 */
export async function creditHistory(
  db: Queryable,
  userId: number,
  page: PageRequest,
): Promise<Page<LedgerLine>> {
  const after = afterId(page.cursor);
  const before = afterId(page.before ?? null);
  const rows = await queryRows<{
    id: string | number;
    createdAt: Date | string;
    amountCents: string | number;
    kind: LedgerKind;
    status: LedgerStatus;
    balanceAfterCents: string | number;
    cappedCents: string | number | null;
    decisionReason: string | null;
    signupUsername: string | null;
    inviterUsername: string | null;
    referralCount: number | null;
    reason: string | null;
  }>(
    db,
    sql`SELECT h.* FROM (
          SELECT l.id, l.created_at AS "createdAt", l.amount_cents AS "amountCents", l.kind, l.status,
                 SUM(CASE WHEN l.status = 'posted' THEN l.amount_cents ELSE 0 END)
                   OVER (ORDER BY l.created_at, l.id) AS "balanceAfterCents",
                 l.capped_cents AS "cappedCents", r.reason AS "decisionReason",
                 s.username AS "signupUsername", inv.username AS "inviterUsername",
                 l.referral_count AS "referralCount", l.reason
          FROM ledger_entries l
          LEFT JOIN users s ON s.id = l.signup_user_id
          LEFT JOIN users inv ON inv.id = s.invited_by_id AND l.kind = 'invitee_bonus'
          LEFT JOIN referrals r ON r.invitee_id = l.signup_user_id AND l.kind = 'invitee_bonus' AND l.status = 'void'
          WHERE l.user_id = ${userId}
        ) h
        ${
          after !== null
            ? sql`WHERE (h."createdAt", h.id) <
                    (SELECT created_at, id FROM ledger_entries WHERE id = ${after} AND user_id = ${userId})`
            : before !== null
              ? sql`WHERE (h."createdAt", h.id) >
                    (SELECT created_at, id FROM ledger_entries WHERE id = ${before} AND user_id = ${userId})`
              : sql``
        }
        ${before !== null ? sql`ORDER BY h."createdAt", h.id` : sql`ORDER BY h."createdAt" DESC, h.id DESC`}
        LIMIT ${page.size + 1}`,
  );
  return pageBothWays(
    rows.map((r) => ({
      id: Number(r.id),
      createdAt: new Date(r.createdAt),
      amountCents: Number(r.amountCents),
      kind: r.kind,
      status: r.status,
      balanceAfterCents: Number(r.balanceAfterCents),
      cappedCents: r.cappedCents === null ? null : Number(r.cappedCents),
      decisionReason: r.decisionReason,
      signupUsername: r.signupUsername,
      inviterUsername: r.inviterUsername,
      referralCount: r.referralCount === null ? null : Number(r.referralCount),
      reason: r.reason,
    })),
    page,
    (row) => idCursor(row.id),
  );
}

/** The people who joined through the user's link, newest first (index on invited_by_id, created_at, id). */
export async function referralsOf(
  db: Queryable,
  inviterId: number,
  page: PageRequest,
): Promise<Page<Referral>> {
  const after = afterId(page.cursor);
  const before = afterId(page.before ?? null);
  const rows = await queryRows<{
    id: string | number;
    username: string;
    joinedAt: Date | string;
    status: ReferralStatus | null;
    reason: string | null;
    capped: boolean | null;
  }>(
    db,
    sql`SELECT u.id, u.username, u.created_at AS "joinedAt", r.status, r.reason, r.capped
        FROM users u LEFT JOIN referrals r ON r.invitee_id = u.id
        WHERE u.invited_by_id = ${inviterId}
        ${
          after !== null
            ? sql`AND (u.created_at, u.id) <
                    (SELECT created_at, id FROM users WHERE id = ${after} AND invited_by_id = ${inviterId})`
            : before !== null
              ? sql`AND (u.created_at, u.id) >
                    (SELECT created_at, id FROM users WHERE id = ${before} AND invited_by_id = ${inviterId})`
              : sql``
        }
        ${before !== null ? sql`ORDER BY u.created_at, u.id` : sql`ORDER BY u.created_at DESC, u.id DESC`}
        LIMIT ${page.size + 1}`,
  );
  return pageBothWays(
    rows.map((r) => ({
      id: Number(r.id),
      username: r.username,
      joinedAt: new Date(r.joinedAt),
      status: r.status ?? "approved",
      reason: r.reason,
      capped: r.capped === true,
    })),
    page,
    (row) => idCursor(row.id),
  );
}

/** Where a user stands in the programme beyond their balance: their own referral, and their link's. */
export interface ReferralStanding {
  /** The referral the user joined through (null when they joined without a link). */
  own: { status: ReferralStatus; reason: string | null } | null;
  /** Sign-ups through the user's link, by status. */
  approved: number;
  held: number;
  rejected: number;
}

export async function referralStanding(db: Queryable, userId: number): Promise<ReferralStanding> {
  const [row] = await queryRows<{
    own_status: ReferralStatus | null;
    own_reason: string | null;
    approved: string | number;
    held: string | number;
    rejected: string | number;
  }>(
    db,
    sql`SELECT own.status AS own_status, own.reason AS own_reason,
          count(r.id) FILTER (WHERE r.status = 'approved') AS approved,
          count(r.id) FILTER (WHERE r.status = 'held') AS held,
          count(r.id) FILTER (WHERE r.status = 'rejected') AS rejected
        FROM (SELECT 1) AS one
        LEFT JOIN referrals own ON own.invitee_id = ${userId}
        LEFT JOIN referrals r ON r.inviter_id = ${userId}
        GROUP BY own.status, own.reason`,
  );
  return {
    own: row?.own_status ? { status: row.own_status, reason: row.own_reason } : null,
    approved: Number(row?.approved ?? 0),
    held: Number(row?.held ?? 0),
    rejected: Number(row?.rejected ?? 0),
  };
}
