// Storage of the links sent by email (email_tokens) and of the addresses they verify: the SQL of
// verifying an address and of the look-ups both kinds of link share.
import { sql } from "drizzle-orm";
import type { LinkEmailCounters } from "../accounts/throttle.js";
import { accountCounter } from "../accounts/throttle.js";
import { dateOrNull, type Queryable, queryRows } from "../db/connection.js";
import { isUniqueViolation } from "../db/errors.js";
import { type EmailTokenPurpose, emailTokens, users } from "../db/schema.js";
import { reserveHit } from "../db/throttle-counters.js";
import { type MailDeps, outboxInsert } from "./outbox.js";
import type { NewEmailToken } from "./tokens.js";

/** The address is another account's verified address: nothing was written. */
export class EmailTaken extends Error {
  constructor() {
    super("email taken");
    this.name = "EmailTaken";
  }
}

/** Who holds this verified address (its key), or null. */
export async function verifiedOwnerOf(db: Queryable, emailKey: string): Promise<number | null> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`SELECT id FROM ${users} WHERE email_key = ${emailKey}`,
  );
  return rows[0] ? Number(rows[0].id) : null;
}

export interface VerificationWrite {
  userId: number;
  username: string;
  /** As typed, the domain lower-cased. */
  address: string;
  token: NewEmailToken;
  expiresAt: Date;
  /** Where the message's link points. */
  origin: string;
  mailStatus: MailDeps["initialStatus"];
  counters: LinkEmailCounters;
}

/**
 * Sends a link to verify an address, in one statement: a message to this address and one for this
 * account are reserved on their counters, and only when both are under their limits does the new
 * link replace the account's unused ones (an older message's link stops working), the address
 * become the one waiting for confirmation, and the message be written. False: throttled, nothing
 * written.
 */
export async function startVerification(db: Queryable, write: VerificationWrite): Promise<boolean> {
  const account = accountCounter(write.counters, write.userId);
  const reserved = sql`EXISTS (SELECT 1 FROM account_slot)`;
  const params = JSON.stringify({ username: write.username, token: write.token.token, origin: write.origin });
  const rows = await queryRows<{ sent: boolean }>(
    db,
    sql`WITH address_slot AS (${reserveHit(write.counters.address, true)}),
      account_slot AS (${reserveHit(account, sql`EXISTS (SELECT 1 FROM address_slot)`)}),
      dropped AS (
        DELETE FROM ${emailTokens}
        WHERE user_id = ${write.userId} AND purpose = 'verify' AND used_at IS NULL AND ${reserved}
      ), token AS (
        INSERT INTO ${emailTokens} (user_id, purpose, email, token_hash, expires_at)
        SELECT ${write.userId}, 'verify', ${write.address}, ${write.token.hash}, ${write.expiresAt.toISOString()}::timestamptz
        WHERE ${reserved}
        RETURNING id
      ), noted AS (
        UPDATE ${users} SET pending_email = ${write.address} WHERE id = ${write.userId} AND EXISTS (SELECT 1 FROM token)
      ), message AS (${outboxInsert(
        sql`SELECT 'verify_email', ${write.userId}, ${write.address}, ${params}::jsonb, ${write.mailStatus}
        WHERE EXISTS (SELECT 1 FROM token)`,
      )})
      SELECT EXISTS (SELECT 1 FROM token) AS sent`,
  );
  return rows[0]?.sent === true;
}

export interface StoredToken {
  id: number;
  userId: number;
  username: string;
  /** The address the link was sent to. */
  email: string;
  /** The account's verified address now. */
  accountEmail: string | null;
  used: boolean;
  expired: boolean;
  /** The account is active and not deleted: its links may still work. */
  accountOpen: boolean;
}

/** A link's token, whatever became of it; null when no link of this kind has it. */
export async function findEmailToken(
  db: Queryable,
  purpose: EmailTokenPurpose,
  tokenHash: string,
  now: Date,
): Promise<StoredToken | null> {
  const rows = await queryRows<{
    id: string;
    user_id: string;
    username: string;
    email: string;
    account_email: string | null;
    used: boolean;
    expired: boolean;
    account_open: boolean;
  }>(
    db,
    sql`SELECT t.id, t.user_id, u.username, t.email, u.email AS account_email,
        t.used_at IS NOT NULL AS used, t.expires_at <= ${now.toISOString()}::timestamptz AS expired,
        (u.is_active AND u.deleted_at IS NULL) AS account_open
      FROM ${emailTokens} t JOIN ${users} u ON u.id = t.user_id
      WHERE t.token_hash = ${tokenHash} AND t.purpose = ${purpose}`,
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: Number(row.id),
    userId: Number(row.user_id),
    username: row.username,
    email: row.email,
    accountEmail: row.account_email,
    used: row.used,
    expired: row.expired,
    accountOpen: row.account_open,
  };
}

/**
 * Uses a verification link, in one statement: the token is marked used only if it still works, and
 * its address becomes the account's verified one (no longer waiting). Another account that verified
 * the same address first makes the unique index refuse it: EmailTaken, and nothing is written. False
 * when the link no longer works (used meanwhile, expired, or the account closed).
 */
export async function confirmAddress(
  db: Queryable,
  confirm: { tokenId: number; emailKey: string; now: Date },
): Promise<boolean> {
  const now = confirm.now.toISOString();
  try {
    const rows = await queryRows<{ id: string }>(
      db,
      sql`WITH used AS (
          UPDATE ${emailTokens} SET used_at = ${now}::timestamptz
          WHERE id = ${confirm.tokenId} AND purpose = 'verify' AND used_at IS NULL AND expires_at > ${now}::timestamptz
          RETURNING user_id, email
        )
        UPDATE ${users} u SET email = used.email, email_key = ${confirm.emailKey},
          pending_email = CASE WHEN u.pending_email = used.email THEN NULL ELSE u.pending_email END
        FROM used WHERE u.id = used.user_id AND u.is_active AND u.deleted_at IS NULL
        RETURNING u.id`,
    );
    return rows.length > 0;
  } catch (error) {
    if (isUniqueViolation(error, "users_email_key_uq")) throw new EmailTaken();
    throw error;
  }
}

export interface EmailState {
  username: string;
  email: string | null;
  pendingEmail: string | null;
  /** When the link to the waiting address was sent, and until when it works. */
  pendingSentAt: Date | null;
  pendingExpiresAt: Date | null;
}

/** An account's addresses, and the link waiting for confirmation, for the dashboard and staff. */
export async function emailStateOf(db: Queryable, userId: number): Promise<EmailState | null> {
  const rows = await queryRows<{
    username: string;
    email: string | null;
    pending_email: string | null;
    sent_at: string | Date | null;
    expires_at: string | Date | null;
  }>(
    db,
    sql`SELECT u.username, u.email, u.pending_email, t.created_at AS sent_at, t.expires_at
      FROM ${users} u
      LEFT JOIN LATERAL (
        SELECT created_at, expires_at FROM ${emailTokens}
        WHERE user_id = u.id AND purpose = 'verify' AND used_at IS NULL AND email = u.pending_email
        ORDER BY created_at DESC LIMIT 1
      ) t ON true
      WHERE u.id = ${userId}`,
  );
  const row = rows[0];
  if (!row) return null;
  return {
    username: row.username,
    email: row.email,
    pendingEmail: row.pending_email,
    pendingSentAt: dateOrNull(row.sent_at),
    pendingExpiresAt: dateOrNull(row.expires_at),
  };
}

/**
 * Forgets links that stopped working before `before` (their address with them): the housekeeping
 * timer's. An address still waiting keeps its place in users.pending_email; its page says the link
 * expired and offers a new one.
 */
export async function purgeEmailTokensExpiredBefore(db: Queryable, before: Date): Promise<number> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`DELETE FROM ${emailTokens} WHERE expires_at < ${before.toISOString()}::timestamptz RETURNING id`,
  );
  return rows.length;
}
