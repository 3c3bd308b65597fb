// Storage of deleting an account: what is erased, what is anonymised, in one statement.
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import {
  addressSightings,
  auditLog,
  djangoImports,
  emailTokens,
  knownDevices,
  outboxMessages,
  sessions,
  throttleCounters,
  users,
} from "../db/schema.js";
import { releaseHit } from "../db/throttle-counters.js";
import type { ThrottleCounter } from "./throttle.js";

export interface Erasure {
  userId: number;
  /** `deleted-<id>`: the name and key the row keeps. */
  anonymousName: string;
  /** A password hash no password matches ("!" and random text, as Django's unusable passwords). */
  unusableHash: string;
  /** A fresh token nobody is shown: links with the old one name nobody from now on. */
  referralToken: string;
  now: Date;
  /** The login failure counters this attempt used: its own failure given back, the username's forgotten. */
  addressCounter: ThrottleCounter;
  /** At least one: the username's failure counter, which names the old username. */
  clearedBuckets: [string, ...string[]];
}

/**
 * Erases an account's personal data and keeps its row, anonymised, for the ledger and the referrals
 * that name it: the name becomes `deleted-<id>` (free again for someone new), the password unusable,
 * the addresses gone, the link dead, the account inactive and marked deleted. Its sessions, known
 * browsers, address sightings and links by email are deleted; its messages not yet sent are dropped
 * and the sent ones keep no address; the import's record forgets the old name; staff's records of
 * its sessions forget the device; an audit row says it happened. Ledger rows are not touched. One
 * statement: all of it or nothing. False when the account was already deleted.
 */
export async function eraseAccount(db: Queryable, erase: Erasure): Promise<boolean> {
  const u = erase.userId;
  const rows = await queryRows<{ id: string }>(
    db,
    sql`WITH erased AS (
        UPDATE ${users} SET username = ${erase.anonymousName}, username_key = ${erase.anonymousName},
          password_hash = ${erase.unusableHash}, email = NULL, email_key = NULL, pending_email = NULL,
          referral_token = ${erase.referralToken}, is_active = false, is_staff = false,
          deleted_at = ${erase.now.toISOString()}::timestamptz
        WHERE id = ${u} AND deleted_at IS NULL
        RETURNING id
      ),
      tokens AS (DELETE FROM ${emailTokens} WHERE user_id IN (SELECT id FROM erased)),
      ended AS (DELETE FROM ${sessions} WHERE user_id IN (SELECT id FROM erased)),
      devices AS (DELETE FROM ${knownDevices} WHERE user_id IN (SELECT id FROM erased)),
      sightings AS (DELETE FROM ${addressSightings} WHERE user_id IN (SELECT id FROM erased)),
      unsent AS (
        DELETE FROM ${outboxMessages} WHERE user_id IN (SELECT id FROM erased) AND status IN ('pending', 'kept')
      ),
      sent AS (
        UPDATE ${outboxMessages} SET to_address = '', params = '{}'::jsonb
        WHERE user_id IN (SELECT id FROM erased) AND status NOT IN ('pending', 'kept')
      ),
      imported AS (
        UPDATE ${djangoImports} SET django_username = ${erase.anonymousName} WHERE user_id IN (SELECT id FROM erased)
      ),
      audited AS (
        UPDATE ${auditLog} SET details = (details::jsonb - 'client_address' - 'user_agent')::text
        WHERE target_user_id IN (SELECT id FROM erased) AND action = 'session_ended'
      ),
      released AS (${releaseHit(erase.addressCounter)}),
      forgotten AS (
        DELETE FROM ${throttleCounters}
        WHERE bucket IN (${sql.join(
          erase.clearedBuckets.map((bucket) => sql`${bucket}`),
          sql`, `,
        )}) AND EXISTS (SELECT 1 FROM erased)
      ),
      recorded AS (
        INSERT INTO ${auditLog} (actor_id, action, target_user_id, details)
        SELECT id, 'account_deleted', id, '{}' FROM erased
      )
      SELECT id FROM erased`,
  );
  return rows.length > 0;
}
