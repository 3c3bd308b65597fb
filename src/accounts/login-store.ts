// Storage of the login path: every row a login reads or writes (the user, the browsers it knows,
// the failure counters, the new session, an upgraded hash) and its SQL.
import { type SQL, sql } from "drizzle-orm";
import { recordSighting } from "../db/address-sightings.js";
import { type Database, queryPreparedRows } from "../db/connection.js";
import { knownDevices, sessions, users } from "../db/schema.js";
import { clearBucket, hitsOf, releaseHit, releaseReservation, reserveHit } from "../db/throttle-counters.js";
import type { NewSession } from "./sessions.js";
import type { LoginCounters, ThrottleCounter } from "./throttle.js";

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
  /** The browser has logged in to this account before: its own counter applies, not the username's. */
  knownDevice: boolean;
}

interface CheckRow {
  known: boolean;
  user_reserved: boolean;
  device_reserved: boolean;
  address_reserved: boolean;
  user_hits: number;
  device_hits: number;
  address_hits: number;
  id: string | null;
  username: string;
  password_hash: string;
  is_active: boolean;
}

/**
 * What a login learns before it spends a hash, in one statement: the user, whether this browser
 * knows the account, and whether a failure may still be counted. With `reserve`, a failure is
 * counted now, before the hash, on the address and on the username (or, from a known browser, on
 * that browser's counter), and completeLogin gives it back if the password was right.
 */
export async function checkBeforeVerifying(
  db: Database,
  request: {
    usernameKey: string | null;
    deviceIdHash: string | null;
    counters: LoginCounters;
    reserve: boolean;
  },
): Promise<LoginCheck> {
  const { counters, reserve } = request;
  // A counter the request does not have: a bucket with no limit, never reserved.
  const none: ThrottleCounter = { ...counters.address, bucket: "login:none", limit: 0 };
  const userCounter = counters.user ?? none;
  const deviceCounter = counters.device ?? none;
  // Only the parts this request needs: on PGlite every part is planned and run on the event loop's
  // thread (a login with no device cookie skips the browser's lookup and counter).
  const hasDevice = request.deviceIdHash !== null;
  const parts: SQL[] = [
    sql`found AS (
      SELECT id, username, password_hash, is_active FROM ${users} WHERE username_key = ${request.usernameKey} LIMIT 1
    )`,
  ];
  if (hasDevice) {
    parts.push(sql`known AS (
      SELECT EXISTS (SELECT 1 FROM ${knownDevices}
        WHERE device_hash = ${request.deviceIdHash} AND user_id = (SELECT id FROM found)) AS yes
    )`);
  }
  const known = hasDevice ? sql`(SELECT yes FROM known)` : sql`false`;
  const userSlot = reserve && counters.user !== null;
  const deviceSlot = reserve && counters.device !== null && hasDevice;
  if (userSlot) parts.push(sql`user_slot AS (${reserveHit(userCounter, sql`NOT ${known}`)})`);
  if (deviceSlot) parts.push(sql`device_slot AS (${reserveHit(deviceCounter, known)})`);
  if (reserve) parts.push(sql`address_slot AS (${reserveHit(counters.address, true)})`);
  const outcome = reserve
    ? sql`${userSlot ? sql`EXISTS (SELECT 1 FROM user_slot)` : sql`false`} AS user_reserved,
        ${deviceSlot ? sql`EXISTS (SELECT 1 FROM device_slot)` : sql`false`} AS device_reserved,
        EXISTS (SELECT 1 FROM address_slot) AS address_reserved`
    : sql`${hitsOf(userCounter)} AS user_hits, ${hitsOf(deviceCounter)} AS device_hits,
        ${hitsOf(counters.address)} AS address_hits`;
  const [row] = await queryPreparedRows<CheckRow>(
    db,
    sql`WITH ${sql.join(parts, sql`, `)}
      SELECT ${known} AS known, ${outcome}, found.id, found.username, found.password_hash, found.is_active
      FROM (SELECT 1) AS one LEFT JOIN found ON true`,
  );
  const knownDevice = row?.known === true;
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
    const identityHits = knownDevice ? Number(row?.device_hits ?? 0) : Number(row?.user_hits ?? 0);
    const identityLimit = knownDevice ? deviceCounter.limit : counters.user ? userCounter.limit : Infinity;
    const throttled =
      identityHits >= identityLimit || Number(row?.address_hits ?? 0) >= counters.address.limit;
    return { throttled, user, knownDevice };
  }
  const identityReserved = knownDevice
    ? row?.device_reserved === true
    : counters.user === null || row?.user_reserved === true;
  const addressReserved = row?.address_reserved === true;
  if (identityReserved && addressReserved) return { throttled: false, user, knownDevice };
  // One counter took the attempt and another refused it: give back what was taken.
  if (row?.user_reserved && counters.user) await releaseReservation(db, counters.user);
  if (row?.device_reserved && counters.device) await releaseReservation(db, counters.device);
  if (addressReserved) await releaseReservation(db, counters.address);
  return { throttled: true, user, knownDevice };
}

/**
 * A right password, in one statement: the new session (ending the browser's previous one), the
 * failures on the counter that applied cleared, the address's reserved failure given back, the
 * browser remembered for this account, and an upgraded hash. The session is written only while the
 * user is active, under a share lock on the user's row: a deactivation that ran meanwhile either
 * waits for this session and ends it, or makes this write nothing. False when nothing was written.
 */
export async function completeLogin(
  db: Database,
  login: {
    userId: number;
    session: NewSession;
    endSessionIdHash: string | null;
    deviceIdHash: string;
    /** The counter whose failures a right password clears: the browser's own, or the username's. */
    clearedBucket: string | null;
    addressCounter: ThrottleCounter;
    /** A stronger hash of the same password, when the stored one is weaker than today's. */
    upgradedHash: string | null;
    /** The keyed hash of the client's address, remembered for the shared-address signal. */
    addressHash: string | null;
  },
): Promise<boolean> {
  const row = login.session.row;
  // Only the parts this login needs (see checkBeforeVerifying).
  const parts: SQL[] = [
    sql`started AS (
      INSERT INTO ${sessions} (id_hash, user_id, expires_at, user_agent, client_address)
      SELECT ${row.idHash}, id, ${row.expiresAt.toISOString()}::timestamptz, ${row.userAgent}, ${row.clientAddress}
      FROM ${users} WHERE id = ${login.userId} AND is_active FOR SHARE
      RETURNING 1
    )`,
    sql`released AS (${releaseHit(login.addressCounter)})`,
    sql`remembered AS (
      INSERT INTO ${knownDevices} (device_hash, user_id) VALUES (${login.deviceIdHash}, ${login.userId})
      ON CONFLICT (device_hash, user_id) DO UPDATE SET last_seen_at = now()
    )`,
  ];
  if (login.endSessionIdHash !== null) {
    parts.push(sql`ended AS (DELETE FROM ${sessions} WHERE id_hash = ${login.endSessionIdHash})`);
  }
  if (login.clearedBucket !== null) parts.push(sql`cleared AS (${clearBucket(login.clearedBucket)})`);
  if (login.upgradedHash !== null) {
    parts.push(sql`upgraded AS (
      UPDATE ${users} SET password_hash = ${login.upgradedHash} WHERE id = ${login.userId}
    )`);
  }
  if (login.addressHash !== null) {
    parts.push(
      sql`seen AS (${recordSighting(login.addressHash, sql`SELECT id FROM ${users} WHERE id = ${login.userId}`)})`,
    );
  }
  const [written] = await queryPreparedRows<{ started: boolean }>(
    db,
    sql`WITH ${sql.join(parts, sql`, `)} SELECT EXISTS (SELECT 1 FROM started) AS started`,
  );
  return written?.started === true;
}
