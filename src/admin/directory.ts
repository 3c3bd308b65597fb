// What staff read about users: the searchable, sortable list and one user's page.
import { and, asc, count, desc, eq, gt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { usernameKey } from "../accounts/username.js";
import type { Queryable } from "../db/connection.js";
import { ledgerEntries, sessions, users } from "../db/schema.js";

/** The columns the list can be sorted by: anything else in ?sort= is ignored, never put in SQL. */
export const userSortColumns = {
  joined: users.createdAt,
  username: users.usernameKey,
  balance: users.balanceCents,
  referred: users.referredCount,
} as const;
export type UserSort = keyof typeof userSortColumns;
export type SortDirection = "asc" | "desc";

export interface UserListQuery {
  /** A username prefix, compared case-insensitively (as login compares names). */
  search: string;
  sort: UserSort;
  direction: SortDirection;
  page: number;
  pageSize: number;
}

export interface UserListRow {
  id: number;
  username: string;
  balanceCents: number;
  referredCount: number;
  createdAt: Date;
  isActive: boolean;
  isStaff: boolean;
  inviterId: number | null;
  inviterUsername: string | null;
}

export const USERS_PER_PAGE = 50;
/** Deeper than this, OFFSET gets slow on a big table: search instead. */
export const MAX_USER_PAGE = 2000;

/** Reads ?q, ?sort, ?dir and ?page, falling back to the defaults for anything unexpected. */
export function parseUserListQuery(query: Record<string, unknown>): UserListQuery {
  const search = typeof query.q === "string" ? query.q.trim().slice(0, 150) : "";
  const sort =
    typeof query.sort === "string" && Object.hasOwn(userSortColumns, query.sort)
      ? (query.sort as UserSort)
      : "joined";
  const direction: SortDirection =
    query.dir === "asc" || query.dir === "desc" ? query.dir : sort === "username" ? "asc" : "desc";
  const pageNumber = typeof query.page === "string" && /^\d{1,6}$/.test(query.page) ? Number(query.page) : 1;
  const page = Math.min(Math.max(pageNumber, 1), MAX_USER_PAGE);
  return { search, sort, direction, page, pageSize: USERS_PER_PAGE };
}

/** LIKE's wildcards typed by a person are matched literally. */
export function likePrefix(text: string): string {
  return `${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/**
 * One page of users, plus whether another page follows. The page is sorted and cut before the
 * inviters are joined, so sorting by an unindexed column is a bounded top-N sort, not a full one.
 */
export async function listUsers(
  db: Queryable,
  query: UserListQuery,
): Promise<{ rows: UserListRow[]; hasNext: boolean }> {
  const order = query.direction === "asc" ? asc : desc;
  const page = db
    .select({
      id: users.id,
      username: users.username,
      usernameKey: users.usernameKey,
      balanceCents: users.balanceCents,
      referredCount: users.referredCount,
      createdAt: users.createdAt,
      isActive: users.isActive,
      isStaff: users.isStaff,
      invitedById: users.invitedById,
    })
    .from(users)
    .where(
      query.search
        ? sql`${users.usernameKey} LIKE ${likePrefix(usernameKey(query.search))} ESCAPE '\\'`
        : undefined,
    )
    .orderBy(order(userSortColumns[query.sort]), order(users.id))
    .limit(query.pageSize + 1)
    .offset((query.page - 1) * query.pageSize)
    .as("page");
  const pageSortColumns = {
    joined: page.createdAt,
    username: page.usernameKey,
    balance: page.balanceCents,
    referred: page.referredCount,
  } satisfies Record<UserSort, unknown>;
  const inviter = alias(users, "inviter");
  const rows = await db
    .select({
      id: page.id,
      username: page.username,
      balanceCents: page.balanceCents,
      referredCount: page.referredCount,
      createdAt: page.createdAt,
      isActive: page.isActive,
      isStaff: page.isStaff,
      inviterId: inviter.id,
      inviterUsername: inviter.username,
    })
    .from(page)
    .leftJoin(inviter, eq(inviter.id, page.invitedById))
    .orderBy(order(pageSortColumns[query.sort]), order(page.id));
  return { rows: rows.slice(0, query.pageSize), hasNext: rows.length > query.pageSize };
}

export interface LedgerLine {
  id: number;
  amountCents: number;
  kind: string;
  signupUserId: number | null;
  signupUsername: string | null;
  referralCount: number | null;
  reason: string | null;
  createdById: number | null;
  createdByUsername: string | null;
  createdAt: Date;
}

export interface InviteeLine {
  id: number;
  username: string;
  createdAt: Date;
  isActive: boolean;
}

export interface SessionLine {
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  clientAddress: string | null;
}

export interface UserDetail {
  user: UserListRow;
  ledger: LedgerLine[];
  /** Set when older ledger entries exist: the id to page back from. */
  olderLedgerBefore: number | null;
  invitees: InviteeLine[];
  inviteeCount: number;
  sessions: SessionLine[];
}

export const LEDGER_LINES_PER_PAGE = 50;
export const INVITEES_SHOWN = 100;

export async function userDetail(
  db: Queryable,
  userId: number,
  options: { ledgerBefore?: number | undefined } = {},
): Promise<UserDetail | null> {
  const inviter = alias(users, "inviter");
  const found = await db
    .select({
      id: users.id,
      username: users.username,
      balanceCents: users.balanceCents,
      referredCount: users.referredCount,
      createdAt: users.createdAt,
      isActive: users.isActive,
      isStaff: users.isStaff,
      inviterId: inviter.id,
      inviterUsername: inviter.username,
    })
    .from(users)
    .leftJoin(inviter, eq(inviter.id, users.invitedById))
    .where(eq(users.id, userId))
    .limit(1);
  const user = found[0];
  if (!user) return null;

  const signup = alias(users, "signup");
  const creator = alias(users, "creator");
  const ledgerRows = await db
    .select({
      id: ledgerEntries.id,
      amountCents: ledgerEntries.amountCents,
      kind: ledgerEntries.kind,
      signupUserId: ledgerEntries.signupUserId,
      signupUsername: signup.username,
      referralCount: ledgerEntries.referralCount,
      reason: ledgerEntries.reason,
      createdById: ledgerEntries.createdById,
      createdByUsername: creator.username,
      createdAt: ledgerEntries.createdAt,
    })
    .from(ledgerEntries)
    .leftJoin(signup, eq(signup.id, ledgerEntries.signupUserId))
    .leftJoin(creator, eq(creator.id, ledgerEntries.createdById))
    .where(
      and(
        eq(ledgerEntries.userId, userId),
        options.ledgerBefore !== undefined
          ? sql`(${ledgerEntries.createdAt}, ${ledgerEntries.id}) <
                (SELECT created_at, id FROM ledger_entries WHERE id = ${options.ledgerBefore})`
          : undefined,
      ),
    )
    // The order of ledger_entries_user_created_idx: a user's page reads only their own entries.
    .orderBy(desc(ledgerEntries.createdAt), desc(ledgerEntries.id))
    .limit(LEDGER_LINES_PER_PAGE + 1);
  const ledger = ledgerRows.slice(0, LEDGER_LINES_PER_PAGE);
  const olderLedgerBefore =
    ledgerRows.length > LEDGER_LINES_PER_PAGE ? (ledger[ledger.length - 1]?.id ?? null) : null;

  const invitees = await db
    .select({ id: users.id, username: users.username, createdAt: users.createdAt, isActive: users.isActive })
    .from(users)
    .where(eq(users.invitedById, userId))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(INVITEES_SHOWN);
  const inviteeTotal = await db.select({ n: count() }).from(users).where(eq(users.invitedById, userId));

  const sessionRows = await db
    .select({
      createdAt: sessions.createdAt,
      lastSeenAt: sessions.lastSeenAt,
      expiresAt: sessions.expiresAt,
      userAgent: sessions.userAgent,
      clientAddress: sessions.clientAddress,
    })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, sql`now()`)))
    .orderBy(desc(sessions.lastSeenAt))
    .limit(100);

  return {
    user,
    ledger,
    olderLedgerBefore,
    invitees,
    inviteeCount: inviteeTotal[0]?.n ?? 0,
    sessions: sessionRows,
  };
}
