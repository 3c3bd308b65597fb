// Storage of password recovery: the link asked for by address, and the new password set through it.
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import { emailTokens, knownDevices, sessions, users } from "../db/schema.js";
import { reserveHit, reserveHitsFrom } from "../db/throttle-counters.js";
import { type MailDeps, outboxInsert } from "../email/outbox.js";
import type { NewEmailToken } from "../email/tokens.js";
import type { NewSession } from "./sessions.js";
import type { LinkEmailCounters } from "./throttle.js";

export interface ResetLinkWrite {
  emailKey: string;
  token: NewEmailToken;
  expiresAt: Date;
  origin: string;
  mailStatus: MailDeps["initialStatus"];
  counters: LinkEmailCounters;
}

/**
 * "Forgot your password?", in one statement whether or not the address is known, so the answer
 * takes the same time either way: a request is counted on the address's counter and, when an open
 * account has this verified address, on the account's; only when both are under their limits is a
 * link (its token's hash, an hour long) and its message written. True when a message was written.
 */
export async function writeResetLink(db: Queryable, write: ResetLinkWrite): Promise<boolean> {
  const params = sql`jsonb_build_object('username', found.username, 'token', ${write.token.token}::text,
    'origin', ${write.origin}::text)`;
  const rows = await queryRows<{ sent: boolean }>(
    db,
    sql`WITH found AS (
        SELECT id, username, email FROM ${users}
        WHERE email_key = ${write.emailKey} AND is_active AND deleted_at IS NULL
      ), address_slot AS (${reserveHit(write.counters.address, true)}),
      account_slot AS (${reserveHitsFrom(
        sql`SELECT ${write.counters.accountPrefix} || id AS bucket FROM found
          WHERE EXISTS (SELECT 1 FROM address_slot)`,
        write.counters,
      )}), token AS (
        INSERT INTO ${emailTokens} (user_id, purpose, email, token_hash, expires_at)
        SELECT id, 'reset', email, ${write.token.hash}, ${write.expiresAt.toISOString()}::timestamptz
        FROM found WHERE EXISTS (SELECT 1 FROM account_slot)
        RETURNING id
      ), message AS (${outboxInsert(
        sql`SELECT 'password_reset', id, email, ${params}, ${write.mailStatus}
        FROM found WHERE EXISTS (SELECT 1 FROM token)`,
      )})
      SELECT EXISTS (SELECT 1 FROM token) AS sent`,
  );
  return rows[0]?.sent === true;
}

export interface ResetWrite {
  tokenId: number;
  passwordHash: string;
  now: Date;
  /** The new session the browser is logged in with. */
  session: NewSession;
  /** The browser's previous session (perhaps another account's), ended as the new one starts. */
  endSessionIdHash: string | null;
  deviceIdHash: string;
}

/**
 * A new password through a link, in one statement: the link is used only if it still works (once,
 * within its hour, for an open account), the new hash is written, every other reset link of the
 * account stops working, every session of the account ends, and the browser gets a new one, as a
 * login gives. Null when the link no longer works; else how many sessions ended.
 */
export async function completeReset(
  db: Queryable,
  write: ResetWrite,
): Promise<{ sessionsEnded: number } | null> {
  const now = write.now.toISOString();
  const row = write.session.row;
  const rows = await queryRows<{ id: string; ended: number }>(
    db,
    sql`WITH used AS (
        UPDATE ${emailTokens} SET used_at = ${now}::timestamptz
        WHERE id = ${write.tokenId} AND purpose = 'reset' AND used_at IS NULL AND expires_at > ${now}::timestamptz
        RETURNING user_id
      ), target AS (
        UPDATE ${users} u SET password_hash = ${write.passwordHash}
        FROM used WHERE u.id = used.user_id AND u.is_active AND u.deleted_at IS NULL
        RETURNING u.id
      ), others AS (
        UPDATE ${emailTokens} SET used_at = ${now}::timestamptz
        WHERE user_id IN (SELECT id FROM target) AND purpose = 'reset' AND used_at IS NULL
          AND id <> ${write.tokenId}
      ), ended AS (
        DELETE FROM ${sessions}
        WHERE user_id IN (SELECT id FROM target)
          OR (id_hash = ${write.endSessionIdHash} AND EXISTS (SELECT 1 FROM target))
        RETURNING user_id
      ), started AS (
        INSERT INTO ${sessions} (id_hash, user_id, expires_at, user_agent, client_address)
        SELECT ${row.idHash}, id, ${row.expiresAt.toISOString()}::timestamptz, ${row.userAgent}, ${row.clientAddress}
        FROM target
      ), remembered AS (
        INSERT INTO ${knownDevices} (device_hash, user_id) SELECT ${write.deviceIdHash}, id FROM target
        ON CONFLICT (device_hash, user_id) DO UPDATE SET last_seen_at = now()
      )
      SELECT id, (SELECT count(*) FROM ended WHERE ended.user_id = target.id)::int AS ended FROM target`,
  );
  const done = rows[0];
  return done ? { sessionsEnded: Number(done.ended) } : null;
}
