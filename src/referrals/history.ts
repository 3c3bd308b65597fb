// What a user can look back on: their credit history (the ledger, with a running balance) and the
// people who joined through their link. Newest first, read in pages with an opaque cursor.
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import type { LedgerKind } from "../db/schema.js";
import { afterId, idCursor, type Page, type PageRequest, pageOf } from "../paging.js";

/** Rows per page of a user's own lists, unless the request asks for another number. */
export const PAGE_SIZE_DEFAULT = 20;

export interface LedgerLine {
  id: number;
  createdAt: Date;
  amountCents: number;
  kind: LedgerKind;
  /** The user's balance just after this entry. */
  balanceAfterCents: number;
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
  const rows = await queryRows<{
    id: string | number;
    createdAt: Date | string;
    amountCents: string | number;
    kind: LedgerKind;
    balanceAfterCents: string | number;
    signupUsername: string | null;
    inviterUsername: string | null;
    referralCount: number | null;
    reason: string | null;
  }>(
    db,
    sql`SELECT h.* FROM (
          SELECT l.id, l.created_at AS "createdAt", l.amount_cents AS "amountCents", l.kind,
                 SUM(l.amount_cents) OVER (ORDER BY l.created_at, l.id) AS "balanceAfterCents",
                 s.username AS "signupUsername", inv.username AS "inviterUsername",
                 l.referral_count AS "referralCount", l.reason
          FROM ledger_entries l
          LEFT JOIN users s ON s.id = l.signup_user_id
          LEFT JOIN users inv ON inv.id = s.invited_by_id AND l.kind = 'invitee_bonus'
          WHERE l.user_id = ${userId}
        ) h
        ${
          after === null
            ? sql``
            : sql`WHERE (h."createdAt", h.id) <
                    (SELECT created_at, id FROM ledger_entries WHERE id = ${after} AND user_id = ${userId})`
        }
        ORDER BY h."createdAt" DESC, h.id DESC
        LIMIT ${page.size + 1}`,
  );
  return pageOf(
    rows.map((r) => ({
      id: Number(r.id),
      createdAt: new Date(r.createdAt),
      amountCents: Number(r.amountCents),
      kind: r.kind,
      balanceAfterCents: Number(r.balanceAfterCents),
      signupUsername: r.signupUsername,
      inviterUsername: r.inviterUsername,
      referralCount: r.referralCount === null ? null : Number(r.referralCount),
      reason: r.reason,
    })),
    page.size,
    (last) => idCursor(last.id),
  );
}

/** The people who joined through the user's link, newest first (index on invited_by_id, created_at, id). */
export async function referralsOf(
  db: Queryable,
  inviterId: number,
  page: PageRequest,
): Promise<Page<Referral>> {
  const after = afterId(page.cursor);
  const rows = await queryRows<{ id: string | number; username: string; joinedAt: Date | string }>(
    db,
    sql`SELECT id, username, created_at AS "joinedAt" FROM users
        WHERE invited_by_id = ${inviterId}
        ${
          after === null
            ? sql``
            : sql`AND (created_at, id) <
                    (SELECT created_at, id FROM users WHERE id = ${after} AND invited_by_id = ${inviterId})`
        }
        ORDER BY created_at DESC, id DESC
        LIMIT ${page.size + 1}`,
  );
  return pageOf(
    rows.map((r) => ({ id: Number(r.id), username: r.username, joinedAt: new Date(r.joinedAt) })),
    page.size,
    (last) => idCursor(last.id),
  );
}
