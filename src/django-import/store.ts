// Storage of `npm run import:django` in this service's database: which Django users are here
// already, which names and tokens are taken, the accounts written a batch per statement, and what
// the run wrote, read back for the reconciliation. Lists travel as one JSON parameter, the same on
// node-postgres and PGlite.
import { sql } from "drizzle-orm";
import { recordAudit } from "../admin/audit.js";
import { type Queryable, queryRows } from "../db/connection.js";
import { djangoImports, ledgerEntries, users } from "../db/schema.js";
import { CARRIED_OVER_WORDS } from "../format.js";
import type { ImportedAccount } from "./plan.js";

/** Two imports at once on one PostgreSQL database take turns (a no-op on PGlite, one process). */
export async function lockImports(tx: Queryable): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(727275)`);
}

/** The Django ids imported by earlier runs. */
export async function importedDjangoIds(tx: Queryable): Promise<number[]> {
  const rows = await queryRows<{ django_id: number }>(tx, sql`SELECT django_id FROM ${djangoImports}`);
  return rows.map((row) => Number(row.django_id));
}

const LOOKUP_CHUNK = 5000;

/** The users here whose name key is one of `keys`. */
export async function namesTakenHere(
  tx: Queryable,
  keys: readonly string[],
): Promise<Map<string, { userId: number; username: string }>> {
  const taken = new Map<string, { userId: number; username: string }>();
  for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
    const chunk = JSON.stringify(keys.slice(i, i + LOOKUP_CHUNK));
    const rows = await queryRows<{ id: string; username: string; username_key: string }>(
      tx,
      sql`SELECT id, username, username_key FROM ${users}
          WHERE username_key IN (SELECT jsonb_array_elements_text(${chunk}::jsonb))`,
    );
    for (const row of rows) taken.set(row.username_key, { userId: Number(row.id), username: row.username });
  }
  return taken;
}

/** The referral tokens among `tokens` that users here have. */
export async function tokensTakenHere(tx: Queryable, tokens: readonly string[]): Promise<Set<string>> {
  if (tokens.length === 0) return new Set();
  const rows = await queryRows<{ referral_token: string }>(
    tx,
    sql`SELECT referral_token FROM ${users}
        WHERE referral_token IN (SELECT jsonb_array_elements_text(${JSON.stringify(tokens)}::jsonb))`,
  );
  return new Set(rows.map((row) => row.referral_token));
}

/**
 * One batch in one statement: the users (with their opening balance and carried progress), their
 * mapping to Django ids, and an opening ledger entry for each balance above zero, so the balance
 * column and the ledger agree from the first moment. The users are inserted in Django's id order.
 */
export async function writeAccounts(tx: Queryable, accounts: readonly ImportedAccount[]): Promise<number> {
  if (accounts.length === 0) return 0;
  const input = JSON.stringify(
    accounts.map((a) => ({
      django_id: a.djangoId,
      django_username: a.djangoUsername,
      username: a.username,
      username_key: a.usernameKey,
      password_hash: a.passwordHash,
      referral_token: a.referralToken,
      balance_cents: a.balanceCents,
      carried_referrals: a.carriedReferrals,
      is_staff: a.isStaff,
      is_active: a.isActive,
      created_at: a.createdAt,
    })),
  );
  const [row] = await queryRows<{ written: string }>(
    tx,
    sql`WITH input AS (
        SELECT * FROM jsonb_to_recordset(${input}::jsonb) AS t(
          django_id integer, django_username text, username text, username_key text, password_hash text,
          referral_token text, balance_cents bigint, carried_referrals integer, is_staff boolean,
          is_active boolean, created_at timestamptz)
      ), created AS (
        INSERT INTO ${users} (username, username_key, password_hash, referral_token, balance_cents,
          carried_referrals, is_staff, is_active, created_at)
        SELECT username, username_key, password_hash, referral_token, balance_cents, carried_referrals,
          is_staff, is_active, created_at
        FROM input ORDER BY django_id
        RETURNING id, username_key
      ), mapped AS (
        INSERT INTO ${djangoImports} (django_id, user_id, django_username, imported_at)
        SELECT input.django_id, created.id, input.django_username, transaction_timestamp()
        FROM input JOIN created USING (username_key)
        RETURNING django_id
      ), opening AS (
        INSERT INTO ${ledgerEntries} (user_id, amount_cents, kind, reason)
        SELECT created.id, input.balance_cents, 'carried_over', ${CARRIED_OVER_WORDS}
        FROM input JOIN created USING (username_key)
        WHERE input.balance_cents > 0
      )
      SELECT count(*)::text AS written FROM mapped`,
  );
  return Number(row?.written ?? 0);
}

export interface TargetTotals {
  users: bigint;
  staff: bigint;
  active: bigint;
  balanceCents: bigint;
  /** The opening ledger entries' sum: what the balances above must equal. */
  ledgerCents: bigint;
  carriedReferrals: bigint;
}

/**
 * What this run wrote, read back from the tables: the users mapped in this transaction (every row
 * of a run has its transaction's timestamp), their flags, balances, opening entries and progress.
 */
export async function totalsOfThisRun(tx: Queryable): Promise<TargetTotals> {
  const [row] = await queryRows<Record<keyof TargetTotals, string>>(
    tx,
    sql`SELECT count(*)::text AS users,
               count(*) FILTER (WHERE u.is_staff)::text AS staff,
               count(*) FILTER (WHERE u.is_active)::text AS active,
               COALESCE(sum(u.balance_cents), 0)::text AS "balanceCents",
               COALESCE(sum(opening.cents), 0)::text AS "ledgerCents",
               COALESCE(sum(u.carried_referrals), 0)::text AS "carriedReferrals"
        FROM ${djangoImports} d
        JOIN ${users} u ON u.id = d.user_id
        LEFT JOIN (
          SELECT user_id, sum(amount_cents) AS cents FROM ${ledgerEntries}
          WHERE kind = 'carried_over' AND status = 'posted' GROUP BY user_id
        ) opening ON opening.user_id = u.id
        WHERE d.imported_at = transaction_timestamp()`,
  );
  const totals = row as Record<keyof TargetTotals, string>;
  return {
    users: BigInt(totals.users),
    staff: BigInt(totals.staff),
    active: BigInt(totals.active),
    balanceCents: BigInt(totals.balanceCents),
    ledgerCents: BigInt(totals.ledgerCents),
    carriedReferrals: BigInt(totals.carriedReferrals),
  };
}

/** The run in the audit log, in its transaction: staff see when users arrived, and how many. */
export async function recordImport(
  tx: Queryable,
  details: { users: number; renamed: number; balance_cents: string },
): Promise<void> {
  await recordAudit(tx, {
    actorId: null,
    action: "users_imported",
    details: { via: "import:django", ...details },
  });
}
