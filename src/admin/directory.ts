// What staff read about users: the searchable, sortable list and one user's page.
import { and, asc, count, desc, eq, gt, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { usernameKey } from "../accounts/username.js";
import type { Queryable } from "../db/connection.js";
import { type LedgerStatus, ledgerEntries, sessions, users } from "../db/schema.js";
import { parseEmail } from "../email/address.js";
import { emailStateOf } from "../email/verification-store.js";
import { afterId, badCursor, idCursor, type Page, type PageRequest, pageOf } from "../paging.js";
import { sessionPublicIdSql } from "./user-access.js";

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
  /**
   * A username prefix, compared case-insensitively (as login compares names); when it reads as an
   * email address, also that verified address (its key) or that address waiting for confirmation.
   */
  search: string;
  sort: UserSort;
  direction: SortDirection;
}

export interface UserListRow {
  id: number;
  username: string;
  balanceCents: number;
  /** Credit held for review. */
  pendingCents: number;
  referredCount: number;
  createdAt: Date;
  isActive: boolean;
  isStaff: boolean;
  inviterId: number | null;
  inviterUsername: string | null;
  /** The verified address, and the one waiting for confirmation. */
  email: string | null;
  pendingEmail: string | null;
  /** When the person deleted their account (the row stays, anonymised, for the ledger). */
  deletedAt: Date | null;
}

/** Users per page, unless the request asks for another number. */
export const USERS_PER_PAGE = 50;
export const SEARCH_MAX_LENGTH = 150;

/** Reads ?q, ?sort and ?dir, falling back to the defaults for anything unexpected. */
export function parseUserListQuery(query: { q?: unknown; sort?: unknown; dir?: unknown }): UserListQuery {
  const search = typeof query.q === "string" ? query.q.trim().slice(0, SEARCH_MAX_LENGTH) : "";
  const sort =
    typeof query.sort === "string" && Object.hasOwn(userSortColumns, query.sort)
      ? (query.sort as UserSort)
      : "joined";
  const direction: SortDirection =
    query.dir === "asc" || query.dir === "desc" ? query.dir : sort === "username" ? "asc" : "desc";
  return { search, sort, direction };
}

/** The search's condition: a username prefix, or an address (usernames may hold "@" too). */
function searchCondition(search: string) {
  const byName = sql`${users.usernameKey} LIKE ${likePrefix(usernameKey(search))} ESCAPE '\\'`;
  const address = search.includes("@") ? parseEmail(search) : null;
  if (address === null || "error" in address) return byName;
  return sql`(${byName} OR ${users.emailKey} = ${address.key} OR ${users.pendingEmail} = ${address.address})`;
}

/** LIKE's wildcards typed by a person are matched literally. */
export function likePrefix(text: string): string {
  return `${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/**
 * Where a page of the users list ends: the order it was read in, the last row's value in that order
 * and its id. The value travels in the cursor rather than being looked up from the id, because a
 * balance or a referred count can change between two pages and the next page must start where the
 * previous one ended. Join times keep PostgreSQL's microseconds, which a JavaScript Date would round.
 */
type UserCursor = [sort: UserSort, direction: SortDirection, key: string | number, id: number];

/** The last row's sort value: text for join times and names, a number for balances and counts. */
const cursorKeys = {
  joined: sql<string>`to_char(${users.createdAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
  username: sql<string>`${users.usernameKey}`,
  balance: sql<number>`${users.balanceCents}`,
  referred: sql<number>`${users.referredCount}`,
} satisfies Record<UserSort, unknown>;

const INT4_MAX = 2_147_483_647;

function isValidKey(sort: UserSort, key: unknown): boolean {
  switch (sort) {
    case "joined": {
      // A real instant, so the database is never handed a date it would refuse.
      if (typeof key !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(key)) return false;
      const millis = `${key.slice(0, 23)}Z`;
      const instant = new Date(millis);
      return !Number.isNaN(instant.getTime()) && instant.toISOString() === millis;
    }
    case "username":
      // No NUL and no lone surrogate: text PostgreSQL could not compare.
      return typeof key === "string" && !/[\0]|\p{Cs}/u.test(key);
    case "balance":
      return Number.isSafeInteger(key);
    case "referred":
      return Number.isSafeInteger(key) && Math.abs(key as number) <= INT4_MAX;
  }
}

function encodeUserCursor(query: UserListQuery, key: string | number, id: number): string {
  const cursor: UserCursor = [query.sort, query.direction, key, id];
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** The position a users-list cursor holds; a 400 unless it was made for this same order. */
function decodeUserCursor(cursor: string, query: UserListQuery): { key: string | number; id: number } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(value) || value.length !== 4) throw badCursor();
  const [sort, direction, key, id] = value as unknown[];
  if (sort !== query.sort || direction !== query.direction) throw badCursor();
  if (!isValidKey(query.sort, key) || typeof id !== "number" || afterId(String(id)) !== id) {
    throw badCursor();
  }
  return { key: key as string | number, id };
}

/** Rows after the cursor's, in the list's order: (value, id) past the last row's (value, id). */
function afterCursor(query: UserListQuery, cursor: string) {
  const { key, id } = decodeUserCursor(cursor, query);
  const comparison = sql.raw(query.direction === "asc" ? ">" : "<");
  const value = {
    joined: sql`${key}::timestamptz`,
    username: sql`${key}::text`,
    balance: sql`${key}::bigint`,
    referred: sql`${key}::int`,
  }[query.sort];
  return sql`(${userSortColumns[query.sort]}, ${users.id}) ${comparison} (${value}, ${id}::bigint)`;
}

/**
 * One page of users in the chosen order, ties broken by id. The page is sorted and cut before the
 * inviters are joined, so sorting by an unindexed column is a bounded top-N sort, not a full one.
 */
export async function listUsers(
  db: Queryable,
  query: UserListQuery,
  page: PageRequest,
): Promise<Page<UserListRow>> {
  const order = query.direction === "asc" ? asc : desc;
  const found = db
    .select({
      id: users.id,
      username: users.username,
      usernameKey: users.usernameKey,
      balanceCents: users.balanceCents,
      pendingCents: users.pendingCents,
      referredCount: users.referredCount,
      createdAt: users.createdAt,
      isActive: users.isActive,
      isStaff: users.isStaff,
      invitedById: users.invitedById,
      email: users.email,
      pendingEmail: users.pendingEmail,
      deletedAt: users.deletedAt,
      cursorKey: cursorKeys[query.sort].as("cursor_key"),
    })
    .from(users)
    .where(
      and(
        query.search ? searchCondition(query.search) : undefined,
        page.cursor === null ? undefined : afterCursor(query, page.cursor),
      ),
    )
    .orderBy(order(userSortColumns[query.sort]), order(users.id))
    .limit(page.size + 1)
    .as("page");
  const pageSortColumns = {
    joined: found.createdAt,
    username: found.usernameKey,
    balance: found.balanceCents,
    referred: found.referredCount,
  } satisfies Record<UserSort, unknown>;
  const inviter = alias(users, "inviter");
  const rows = await db
    .select({
      id: found.id,
      username: found.username,
      balanceCents: found.balanceCents,
      pendingCents: found.pendingCents,
      referredCount: found.referredCount,
      createdAt: found.createdAt,
      isActive: found.isActive,
      isStaff: found.isStaff,
      inviterId: inviter.id,
      inviterUsername: inviter.username,
      email: found.email,
      pendingEmail: found.pendingEmail,
      deletedAt: found.deletedAt,
      cursorKey: found.cursorKey,
    })
    .from(found)
    .leftJoin(inviter, eq(inviter.id, found.invitedById))
    .orderBy(order(pageSortColumns[query.sort]), order(found.id));
  const listed = pageOf(rows, page.size, (last) =>
    encodeUserCursor(
      query,
      // node-postgres reads a bigint as text; amounts and counts travel as numbers either way.
      query.sort === "balance" || query.sort === "referred" ? Number(last.cursorKey) : String(last.cursorKey),
      last.id,
    ),
  );
  return { ...listed, items: listed.items.map(({ cursorKey: _, ...row }) => row) };
}

export interface LedgerLine {
  id: number;
  amountCents: number;
  kind: string;
  /** Posted (in the balance), pending (held for review) or void (rejected). */
  status: LedgerStatus;
  /** For a reward cut by the monthly limit: the part not paid. */
  cappedCents: number | null;
  signupUserId: number | null;
  signupUsername: string | null;
  referralCount: number | null;
  reason: string | null;
  /** For a staff adjustment: the note for staff only (the user never sees it). */
  staffNote: string | null;
  createdById: number | null;
  createdByUsername: string | null;
  createdAt: Date;
}

/** Who a user is, for a confirmation page: null when there is no such user. */
export async function userSummary(
  db: Queryable,
  userId: number,
): Promise<{ id: number; username: string; isActive: boolean; isStaff: boolean } | null> {
  const found = await db
    .select({ id: users.id, username: users.username, isActive: users.isActive, isStaff: users.isStaff })
    .from(users)
    .where(eq(users.id, userId));
  return found[0] ?? null;
}

export interface InviteeLine {
  id: number;
  username: string;
  createdAt: Date;
  isActive: boolean;
}

export interface SessionLine {
  /** The session's public id (sessionPublicIdSql): what staff name it by to end it, never the cookie. */
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  clientAddress: string | null;
}

export interface UserDetail {
  user: UserListRow;
  /** The token of the user's referral link. */
  referralToken: string;
  /** One page of their ledger, newest first. */
  ledger: Page<LedgerLine>;
  invitees: InviteeLine[];
  inviteeCount: number;
  sessions: SessionLine[];
  /** The link sent to the address waiting for confirmation: when, and until when it works. */
  pendingLink: { sentAt: Date; expiresAt: Date } | null;
}

/** Ledger entries per page of a user's page, unless the request asks for another number. */
export const LEDGER_LINES_PER_PAGE = 50;
export const INVITEES_SHOWN = 100;

export async function userDetail(
  db: Queryable,
  userId: number,
  ledgerPage: PageRequest,
): Promise<UserDetail | null> {
  const inviter = alias(users, "inviter");
  const found = await db
    .select({
      id: users.id,
      username: users.username,
      balanceCents: users.balanceCents,
      pendingCents: users.pendingCents,
      referredCount: users.referredCount,
      createdAt: users.createdAt,
      isActive: users.isActive,
      isStaff: users.isStaff,
      inviterId: inviter.id,
      inviterUsername: inviter.username,
      email: users.email,
      pendingEmail: users.pendingEmail,
      deletedAt: users.deletedAt,
      referralToken: users.referralToken,
    })
    .from(users)
    .leftJoin(inviter, eq(inviter.id, users.invitedById))
    .where(eq(users.id, userId))
    .limit(1);
  const row = found[0];
  if (!row) return null;
  const { referralToken, ...user } = row;

  const ledgerAfter = afterId(ledgerPage.cursor);
  const signup = alias(users, "signup");
  const creator = alias(users, "creator");
  const ledgerRows = await db
    .select({
      id: ledgerEntries.id,
      amountCents: ledgerEntries.amountCents,
      kind: ledgerEntries.kind,
      status: ledgerEntries.status,
      cappedCents: ledgerEntries.cappedCents,
      signupUserId: ledgerEntries.signupUserId,
      signupUsername: signup.username,
      referralCount: ledgerEntries.referralCount,
      reason: ledgerEntries.reason,
      staffNote: ledgerEntries.staffNote,
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
        ledgerAfter !== null
          ? sql`(${ledgerEntries.createdAt}, ${ledgerEntries.id}) <
                (SELECT created_at, id FROM ledger_entries WHERE id = ${ledgerAfter} AND user_id = ${userId})`
          : undefined,
      ),
    )
    // The order of ledger_entries_user_created_idx: a user's page reads only their own entries.
    .orderBy(desc(ledgerEntries.createdAt), desc(ledgerEntries.id))
    .limit(ledgerPage.size + 1);
  const ledger = pageOf(ledgerRows, ledgerPage.size, (last) => idCursor(last.id));

  const invitees = await db
    .select({ id: users.id, username: users.username, createdAt: users.createdAt, isActive: users.isActive })
    .from(users)
    .where(eq(users.invitedById, userId))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(INVITEES_SHOWN);
  const inviteeTotal = await db.select({ n: count() }).from(users).where(eq(users.invitedById, userId));

  const sessionRows = await db
    .select({
      id: sessionPublicIdSql,
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

  const emailState = user.pendingEmail === null ? null : await emailStateOf(db, userId);
  return {
    user,
    referralToken,
    ledger,
    invitees,
    inviteeCount: inviteeTotal[0]?.n ?? 0,
    sessions: sessionRows,
    pendingLink:
      emailState?.pendingSentAt && emailState.pendingExpiresAt
        ? { sentAt: emailState.pendingSentAt, expiresAt: emailState.pendingExpiresAt }
        : null,
  };
}
