// The users as the API reads them: one user, or every user in pages, each with their balance,
// their referrals' counts by status and what their link needs. Keyset pages in id order, so a
// program walking the list sees every user once, and users who join meanwhile at the end.
import { type SQL, sql } from "drizzle-orm";
import { dateOrNull, type Queryable, queryRows } from "../db/connection.js";
import { afterId, idCursor, type Page, type PageRequest, pageOf } from "../paging.js";

export interface ApiUserRow {
  id: number;
  username: string;
  balanceCents: number;
  pendingCents: number;
  /** Approved referrals (users.referred_count, as the dashboard counts them). */
  referredCount: number;
  heldCount: number;
  rejectedCount: number;
  linkOpens: number;
  referralToken: string;
  invitedById: number | null;
  isActive: boolean;
  isStaff: boolean;
  createdAt: Date;
  deletedAt: Date | null;
  /** The verified address. */
  email: string | null;
  /** The address a link was sent to and not yet confirmed. */
  pendingEmail: string | null;
}

interface RawRow {
  id: string | number;
  username: string;
  balance_cents: string | number;
  pending_cents: string | number;
  referred_count: number;
  held_count: string | number;
  rejected_count: string | number;
  link_opens: string | number;
  referral_token: string;
  invited_by_id: string | number | null;
  is_active: boolean;
  is_staff: boolean;
  created_at: Date | string;
  deleted_at: Date | string | null;
  email: string | null;
  pending_email: string | null;
}

function rowOf(r: RawRow): ApiUserRow {
  return {
    id: Number(r.id),
    username: r.username,
    balanceCents: Number(r.balance_cents),
    pendingCents: Number(r.pending_cents),
    referredCount: Number(r.referred_count),
    heldCount: Number(r.held_count),
    rejectedCount: Number(r.rejected_count),
    linkOpens: Number(r.link_opens),
    referralToken: r.referral_token,
    invitedById: r.invited_by_id === null ? null : Number(r.invited_by_id),
    isActive: r.is_active,
    isStaff: r.is_staff,
    createdAt: new Date(r.created_at),
    deletedAt: dateOrNull(r.deleted_at),
    email: r.email,
    pendingEmail: r.pending_email,
  };
}

/** The users matching `where`, with their held and rejected referrals counted (referrals_inviter_created_idx). */
function selectUsers(where: SQL, limit: number): SQL {
  return sql`SELECT u.id, u.username, u.balance_cents, u.pending_cents, u.referred_count,
        COALESCE(c.held, 0) AS held_count, COALESCE(c.rejected, 0) AS rejected_count,
        u.link_opens, u.referral_token, u.invited_by_id, u.is_active, u.is_staff, u.created_at,
        u.deleted_at, u.email, u.pending_email
      FROM users u
      LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE r.status = 'held') AS held,
               count(*) FILTER (WHERE r.status = 'rejected') AS rejected
        FROM referrals r WHERE r.inviter_id = u.id
      ) c ON true
      WHERE ${where}
      ORDER BY u.id
      LIMIT ${limit}`;
}

export async function apiUser(db: Queryable, userId: number): Promise<ApiUserRow | null> {
  const rows = await queryRows<RawRow>(db, selectUsers(sql`u.id = ${userId}`, 1));
  return rows[0] ? rowOf(rows[0]) : null;
}

/** A page of every user, in id order; the cursor is the last id of the page before. */
export async function listApiUsers(db: Queryable, page: PageRequest): Promise<Page<ApiUserRow>> {
  const after = afterId(page.cursor);
  const rows = await queryRows<RawRow>(
    db,
    selectUsers(after === null ? sql`true` : sql`u.id > ${after}`, page.size + 1),
  );
  return pageOf(rows.map(rowOf), page.size, (last) => idCursor(last.id));
}

export async function userExists(db: Queryable, userId: number): Promise<boolean> {
  const rows = await queryRows(db, sql`SELECT 1 FROM users WHERE id = ${userId}`);
  return rows.length > 0;
}
