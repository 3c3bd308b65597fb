// Storage of the login path: every row a login reads or writes (the user, the failure counters, the
// new session, an upgraded hash) and its SQL.
import { sql } from "drizzle-orm";
import { type Database, queryPreparedRows } from "../db/connection.js";
import { sessions, users } from "../db/schema.js";
import { clearBucket, hitsOf, releaseHit, releaseReservation, reserveHit } from "../db/throttle-counters.js";
import type { NewSession } from "./sessions.js";
import type { ThrottleCounter } from "./throttle.js";

export interface StoredUser {
  id: number;
  username: string;
  passwordHash: string;
  isActive: boolean;
}

export interface LoginCheck {
  /** A counter was at its limit: nothing is left reserved. */
  throttled: boolean;
  user: StoredUser | null;
}

export interface LoginCounters {
  user: ThrottleCounter | null;
  address: ThrottleCounter;
}

/**
 * What a login learns before it spends a hash, in one statement: the user, and whether a failure
 * may still be counted on the username and on the address. With `reserve`, a failure is counted on
 * both now, before the hash, and given back by completeLogin if the password was right.
 */
export async function checkBeforeVerifying(
  db: Database,
  request: { usernameKey: string | null; counters: LoginCounters; reserve: boolean },
): Promise<LoginCheck> {
  const { counters, reserve } = request;
  // Without a username there is no user counter: a bucket no request ever uses stands in.
  const userCounter = counters.user ?? { ...counters.address, bucket: "login:user:", limit: 0 };
  const [row] = await queryPreparedRows<{
    user_reserved: boolean;
    address_reserved: boolean;
    user_hits: number;
    address_hits: number;
    id: string | null;
    username: string;
    password_hash: string;
    is_active: boolean;
  }>(
    db,
    sql`WITH user_slot AS (${reserveHit(userCounter, reserve && counters.user !== null)}),
        address_slot AS (${reserveHit(counters.address, reserve)})
      SELECT EXISTS (SELECT 1 FROM user_slot) AS user_reserved,
        EXISTS (SELECT 1 FROM address_slot) AS address_reserved,
        ${hitsOf(userCounter)} AS user_hits, ${hitsOf(counters.address)} AS address_hits,
        found.id, found.username, found.password_hash, found.is_active
      FROM (SELECT 1) AS one
      LEFT JOIN (SELECT id, username, password_hash, is_active FROM ${users}
        WHERE username_key = ${request.usernameKey} LIMIT 1) AS found ON true`,
  );
  const user: StoredUser | null =
    row?.id == null
      ? null
      : {
          id: Number(row.id),
          username: row.username,
          passwordHash: row.password_hash,
          isActive: row.is_active,
        };
  if (!reserve) {
    const userHits = counters.user ? Number(row?.user_hits ?? 0) : 0;
    const atLimit = userHits >= userCounter.limit && counters.user !== null;
    return { throttled: atLimit || Number(row?.address_hits ?? 0) >= counters.address.limit, user };
  }
  const userReserved = counters.user === null || row?.user_reserved === true;
  const addressReserved = row?.address_reserved === true;
  if (userReserved && addressReserved) return { throttled: false, user };
  // One counter took the attempt and the other refused it: give the taken one back.
  if (counters.user && row?.user_reserved) await releaseReservation(db, counters.user);
  if (addressReserved) await releaseReservation(db, counters.address);
  return { throttled: true, user };
}

/**
 * A right password, in one statement: the new session (ending the browser's previous one), the
 * username's failures cleared, the address's reserved failure given back, and an upgraded hash.
 */
export async function completeLogin(
  db: Database,
  login: {
    userId: number;
    session: NewSession;
    endSessionIdHash: string | null;
    counters: LoginCounters;
    /** A stronger hash of the same password, when the stored one is weaker than today's. */
    upgradedHash: string | null;
  },
): Promise<void> {
  const row = login.session.row;
  await queryPreparedRows(
    db,
    sql`WITH started AS (
        INSERT INTO ${sessions} (id_hash, user_id, expires_at, user_agent, client_address)
        VALUES (${row.idHash}, ${login.userId}, ${row.expiresAt.toISOString()}::timestamptz,
          ${row.userAgent}, ${row.clientAddress})
      ), ended AS (
        DELETE FROM ${sessions} WHERE id_hash = ${login.endSessionIdHash}
      ), cleared AS (${clearBucket(login.counters.user?.bucket ?? null)}
      ), released AS (${releaseHit(login.counters.address, true)}
      ), upgraded AS (
        UPDATE ${users} SET password_hash = ${login.upgradedHash}
        WHERE id = ${login.userId} AND ${login.upgradedHash}::text IS NOT NULL
      )
      SELECT 1`,
  );
}
