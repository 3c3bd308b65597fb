// Reads of the ledger for assertions: the balance column against the sum of entries.
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../../src/db/connection.js";

export interface LedgerCheck {
  userId: number;
  username: string;
  balanceCents: number;
  ledgerSumCents: number;
}

/** Every user whose cached total (a users column) differs from the sum of their entries in `status`. */
async function cacheMismatches(
  db: Database,
  cache: "balance_cents" | "pending_cents",
  status: "posted" | "pending",
): Promise<{ userId: number; username: string; cached: number; sum: number }[]> {
  const sum = sql`COALESCE(SUM(l.amount_cents) FILTER (WHERE l.status = ${status}), 0)`;
  return queryRows(
    db,
    sql`SELECT u.id AS "userId", u.username, u.${sql.raw(cache)}::int AS cached, ${sum}::int AS sum
        FROM users u LEFT JOIN ledger_entries l ON l.user_id = u.id
        GROUP BY u.id HAVING u.${sql.raw(cache)} <> ${sum}`,
  );
}

/**
 * Every user whose cached balance differs from the sum of their posted ledger entries (pending and
 * void entries are not part of the balance).
 */
export async function balanceMismatches(db: Database): Promise<LedgerCheck[]> {
  const rows = await cacheMismatches(db, "balance_cents", "posted");
  return rows.map(({ cached, sum, ...who }) => ({ ...who, balanceCents: cached, ledgerSumCents: sum }));
}

export interface PendingCheck {
  userId: number;
  username: string;
  pendingCents: number;
  pendingSumCents: number;
}

/** Every user whose cached pending total differs from the sum of their pending ledger entries. */
export async function pendingMismatches(db: Database): Promise<PendingCheck[]> {
  const rows = await cacheMismatches(db, "pending_cents", "pending");
  return rows.map(({ cached, sum, ...who }) => ({ ...who, pendingCents: cached, pendingSumCents: sum }));
}

/** Both caches against the ledger: empty when every balance and pending total is exact. */
export async function ledgerMismatches(db: Database): Promise<(LedgerCheck | PendingCheck)[]> {
  return [...(await balanceMismatches(db)), ...(await pendingMismatches(db))];
}

export interface AccountRow {
  id: number;
  balanceCents: number;
  pendingCents: number;
  referredCount: number;
  isActive: boolean;
}

/** A user's money and count as stored. */
export async function accountOf(db: Database, username: string): Promise<AccountRow> {
  const [row] = await queryRows<AccountRow>(
    db,
    sql`SELECT id::int AS id, balance_cents::int AS "balanceCents", pending_cents::int AS "pendingCents",
               referred_count AS "referredCount", is_active AS "isActive"
        FROM users WHERE username = ${username}`,
  );
  if (!row) throw new Error(`no user ${username}`);
  return row;
}

export interface ReferralRow {
  id: number;
  inviter: string;
  invitee: string;
  status: "approved" | "held" | "rejected";
  signals: string[];
  sameAddress: boolean;
  holdUntil: Date | null;
  capped: boolean;
}

/** The referrals as stored, oldest first; only those whose invitee is `invitee` when given. */
export async function referralRows(db: Database, invitee?: string): Promise<ReferralRow[]> {
  const rows = await queryRows<{
    id: number;
    inviter: string;
    invitee: string;
    status: ReferralRow["status"];
    signals: string;
    same_address: boolean;
    hold_until: string | Date | null;
    capped: boolean;
  }>(
    db,
    sql`SELECT r.id::int AS id, a.username AS inviter, b.username AS invitee, r.status,
               array_to_string(r.signals, ',') AS signals, r.same_address, r.hold_until, r.capped
        FROM referrals r JOIN users a ON a.id = r.inviter_id JOIN users b ON b.id = r.invitee_id
        WHERE ${invitee ?? null}::text IS NULL OR b.username = ${invitee ?? null}::text
        ORDER BY r.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    inviter: r.inviter,
    invitee: r.invitee,
    status: r.status,
    signals: r.signals === "" ? [] : r.signals.split(","),
    sameAddress: r.same_address,
    holdUntil: r.hold_until === null ? null : new Date(r.hold_until),
    capped: r.capped,
  }));
}

/** The one referral whose invitee is `invitee`. */
export async function referralOf(db: Database, invitee: string): Promise<ReferralRow> {
  const [row] = await referralRows(db, invitee);
  if (!row) throw new Error(`no referral of ${invitee}`);
  return row;
}

export interface RowCounts {
  users: number;
  ledger: number;
  sessions: number;
  /** Sign-ups counted for throttling, over every address and window. */
  signupsCounted: number;
}

export async function countRows(db: Database): Promise<RowCounts> {
  const rows = await queryRows<RowCounts>(
    db,
    sql`SELECT (SELECT count(*) FROM users)::int AS users,
               (SELECT count(*) FROM ledger_entries)::int AS ledger,
               (SELECT count(*) FROM sessions)::int AS sessions,
               (SELECT coalesce(sum(hits), 0) FROM throttle_counters WHERE bucket LIKE 'signup:%')::int
                 AS "signupsCounted"`,
  );
  const counts = rows[0];
  if (!counts) throw new Error("count query returned no row");
  return counts;
}

export async function ledgerOf(db: Database, username: string) {
  return queryRows<{
    kind: string;
    amountCents: number;
    signupUsername: string | null;
    referralCount: number | null;
  }>(
    db,
    sql`SELECT l.kind, l.amount_cents::int AS "amountCents", s.username AS "signupUsername", l.referral_count AS "referralCount"
        FROM ledger_entries l JOIN users u ON u.id = l.user_id LEFT JOIN users s ON s.id = l.signup_user_id
        WHERE u.username = ${username} ORDER BY l.id`,
  );
}

export interface EntryRow {
  kind: string;
  amountCents: number;
  status: "posted" | "pending" | "void";
  cappedCents: number | null;
  signupUsername: string | null;
  referralCount: number | null;
}

/** A user's ledger entries with their status and the part a monthly limit withheld, oldest first. */
export async function entriesOf(db: Database, username: string): Promise<EntryRow[]> {
  return queryRows<EntryRow>(
    db,
    sql`SELECT l.kind, l.amount_cents::int AS "amountCents", l.status, l.capped_cents::int AS "cappedCents",
               s.username AS "signupUsername", l.referral_count AS "referralCount"
        FROM ledger_entries l JOIN users u ON u.id = l.user_id LEFT JOIN users s ON s.id = l.signup_user_id
        WHERE u.username = ${username} ORDER BY l.id`,
  );
}
