// Reads of the ledger for assertions: the balance column against the sum of entries.
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../../src/db/connection.js";

export interface LedgerCheck {
  userId: number;
  username: string;
  balanceCents: number;
  ledgerSumCents: number;
}

/** Every user whose cached balance differs from the sum of their ledger entries. */
export async function balanceMismatches(db: Database): Promise<LedgerCheck[]> {
  return queryRows<LedgerCheck>(
    db,
    sql`SELECT u.id AS "userId", u.username, u.balance_cents::int AS "balanceCents",
               COALESCE(SUM(l.amount_cents), 0)::int AS "ledgerSumCents"
        FROM users u LEFT JOIN ledger_entries l ON l.user_id = u.id
        GROUP BY u.id HAVING u.balance_cents <> COALESCE(SUM(l.amount_cents), 0)`,
  );
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
