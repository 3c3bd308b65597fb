// Storage of the sign-up path: every row a sign-up reads or writes (the new user, the inviter's
// count, the ledger, the referral, the first session, the throttle and signal counters) and its SQL.
import { type SQL, sql } from "drizzle-orm";
import type { NewSession } from "../accounts/sessions.js";
import type { ThrottleCounter } from "../accounts/throttle.js";
import { recordSighting } from "../db/address-sightings.js";
import { type Database, type Queryable, queryPreparedRows } from "../db/connection.js";
import { isUniqueViolation } from "../db/errors.js";
import { addressSightings, knownDevices, ledgerEntries, referrals, sessions, users } from "../db/schema.js";
import { countHits, type SignalWindow } from "../db/signal-counters.js";
import { hitsOf, reserveHit } from "../db/throttle-counters.js";
import { notificationInsert } from "../email/outbox.js";
import { startVerification, type VerificationWrite } from "../email/verification-store.js";
import { deliveryIds, deliveryIdsFrom, eventCtes, type StatementEvent } from "../events/events.js";
import type { PaidReward, ReferralDecision, ReferralFacts } from "./integrity.js";
import { payInviterRewards, type RewardPolicy } from "./reward-store.js";

export interface SignupCheck {
  /** The address is at its limit: nothing was reserved. */
  throttled: boolean;
  usernameTaken: boolean;
  /** The address typed is another account's verified address (false when none was typed). */
  emailTaken: boolean;
  /** The active user whose link this is, or null. */
  inviterId: number | null;
  /** What the signals look at (all false and zero when they were not asked for). */
  facts: ReferralFacts;
  /** The signal counters this check moved: given back if the sign-up does not happen. */
  counted: { bucket: string; window: SignalWindow }[];
}

/** What the referral signals need to look at, when they are on and the sign-up has a link. */
export interface SignalCheck {
  /** The keyed hash of the client's address. */
  addressHash: string;
  sessionIdHash: string | null;
  deviceIdHash: string | null;
  hour: SignalWindow;
  /** Null: the shared-address signal is off. */
  sharedAddress: { window: SignalWindow; seenSince: Date } | null;
  linkVelocity: boolean;
  addressVelocity: boolean;
  /** Null: the earlier-rejections signal is off. */
  rejectedSince: Date | null;
}

/**
 * What a sign-up learns before it spends a hash, in one statement: whether the address is throttled
 * (reserving one sign-up when `reserve` holds), whether the name (and the email address, when one
 * was typed: only then is it in the statement) is taken, whose link this is, and,
 * when `signals` is given and the sign-up will go ahead through a valid link, the facts the referral
 * signals need, moving their counters.
 */
export async function checkBeforeHashing(
  db: Database,
  request: {
    usernameKey: string | null;
    /** The key of the email address typed, or null (the earlier clients send none). */
    emailKey?: string | null;
    referralToken: string | null;
    counter: ThrottleCounter;
    reserve: boolean;
    signals?: SignalCheck | null;
  },
): Promise<SignupCheck> {
  const signals = request.signals ?? null;
  const [row] = await queryPreparedRows<{
    reserved: boolean;
    hits: number;
    taken: boolean;
    email_taken?: boolean;
    inviter_id: string | null;
    link_hits?: number | null;
    address_hits?: number | null;
    shared_hits?: number | null;
    inviter_session?: boolean;
    inviter_device?: boolean;
    rejections?: string | number;
  }>(
    db,
    signals === null
      ? sql`WITH slot AS (${reserveHit(request.counter, request.reserve)})
      SELECT EXISTS (SELECT 1 FROM slot) AS reserved, ${hitsOf(request.counter)} AS hits,
        EXISTS (SELECT 1 FROM ${users} WHERE username_key = ${request.usernameKey}) AS taken${emailTaken(request.emailKey)},
        (SELECT id FROM ${users} WHERE referral_token = ${request.referralToken} AND is_active) AS inviter_id`
      : signalCheckStatement(request, signals),
  );
  const hits = Number(row?.hits ?? 0);
  const inviterId = row?.inviter_id == null ? null : Number(row.inviter_id);
  const facts: ReferralFacts = {
    inviterSession: row?.inviter_session === true,
    inviterDevice: row?.inviter_device === true,
    sharedAddressOrdinal: Number(row?.shared_hits ?? 0),
    linkSignupsThisHour: Number(row?.link_hits ?? 0),
    addressSignupsThisHour: Number(row?.address_hits ?? 0),
    earlierRejections: Number(row?.rejections ?? 0),
  };
  const counted: SignupCheck["counted"] = [];
  if (signals !== null && inviterId !== null) {
    if (row?.link_hits != null) counted.push({ bucket: linkBucket(inviterId), window: signals.hour });
    if (row?.address_hits != null) {
      counted.push({ bucket: addressBucket(signals.addressHash), window: signals.hour });
    }
    if (row?.shared_hits != null && signals.sharedAddress !== null) {
      counted.push({ bucket: sharedBucket(inviterId), window: signals.sharedAddress.window });
    }
  }
  return {
    throttled: request.reserve ? row?.reserved !== true : hits >= request.counter.limit,
    usernameTaken: row?.taken === true,
    emailTaken: row?.email_taken === true,
    inviterId,
    facts,
    counted,
  };
}

/** The check of a typed email address, only when one was typed: the earlier clients' statement stays as it was. */
function emailTaken(emailKey: string | null | undefined): SQL {
  return emailKey == null
    ? sql``
    : sql`,
        EXISTS (SELECT 1 FROM ${users} WHERE email_key = ${emailKey}) AS email_taken`;
}

const linkBucket = (inviterId: number) => `referral:link:${inviterId}`;
const addressBucket = (addressHash: string) => `referral:addr:${addressHash}`;
const sharedBucket = (inviterId: number) => `referral:shared:${inviterId}`;

/**
 * The check with the signals' facts. The counters move only for a sign-up that goes ahead (a slot
 * reserved, the name free, the link valid); every part is in the text whatever is switched off, so
 * the statement has one shape and is prepared once.
 */
function signalCheckStatement(
  request: {
    usernameKey: string | null;
    emailKey?: string | null;
    referralToken: string | null;
    counter: ThrottleCounter;
    reserve: boolean;
  },
  signals: SignalCheck,
): SQL {
  const shared = signals.sharedAddress;
  const farPast = new Date(0);
  return sql`WITH slot AS (${reserveHit(request.counter, request.reserve)}),
    inviter AS (SELECT id FROM ${users} WHERE referral_token = ${request.referralToken} AND is_active),
    proceed AS (
      SELECT id FROM inviter WHERE EXISTS (SELECT 1 FROM slot)
        AND NOT EXISTS (SELECT 1 FROM ${users} WHERE username_key = ${request.usernameKey})${
          request.emailKey == null
            ? sql``
            : sql`
        AND NOT EXISTS (SELECT 1 FROM ${users} WHERE email_key = ${request.emailKey})`
        }
    ),
    link_count AS (${countHits(
      sql`SELECT 'referral:link:' || id AS bucket FROM proceed WHERE ${signals.linkVelocity}::boolean`,
      signals.hour,
    )}),
    address_count AS (${countHits(
      sql`SELECT ${addressBucket(signals.addressHash)} AS bucket FROM proceed WHERE ${signals.addressVelocity}::boolean`,
      signals.hour,
    )}),
    shared_count AS (${countHits(
      sql`SELECT 'referral:shared:' || proceed.id AS bucket FROM proceed
          WHERE ${shared !== null}::boolean AND EXISTS (
            SELECT 1 FROM ${addressSightings} WHERE address_hash = ${signals.addressHash}
              AND user_id = proceed.id AND last_seen_at > ${(shared?.seenSince ?? farPast).toISOString()}::timestamptz)`,
      shared?.window ?? signals.hour,
    )})
    SELECT EXISTS (SELECT 1 FROM slot) AS reserved, ${hitsOf(request.counter)} AS hits,
      EXISTS (SELECT 1 FROM ${users} WHERE username_key = ${request.usernameKey}) AS taken${emailTaken(request.emailKey)},
      (SELECT id FROM inviter) AS inviter_id,
      (SELECT hits FROM link_count) AS link_hits,
      (SELECT hits FROM address_count) AS address_hits,
      (SELECT hits FROM shared_count) AS shared_hits,
      EXISTS (SELECT 1 FROM ${sessions} s JOIN inviter ON s.user_id = inviter.id
        WHERE s.id_hash = ${signals.sessionIdHash}) AS inviter_session,
      EXISTS (SELECT 1 FROM ${knownDevices} d JOIN inviter ON d.user_id = inviter.id
        WHERE d.device_hash = ${signals.deviceIdHash}) AS inviter_device,
      (SELECT count(*) FROM ${referrals} r JOIN inviter ON r.inviter_id = inviter.id
        WHERE ${signals.rejectedSince !== null}::boolean AND r.status = 'rejected'
          AND r.decided_at > ${(signals.rejectedSince ?? farPast).toISOString()}::timestamptz) AS rejections`;
}

export interface NewAccount {
  username: string;
  usernameKey: string;
  passwordHash: string;
  referralToken: string;
}

export interface AccountCreated {
  userId: number;
  /** Null when there was no inviter, or the inviter was deactivated before the write. */
  inviterId: number | null;
  /** The referral's status; null without an inviter. */
  referralStatus: "approved" | "held" | null;
  /** Credited now (approved), or pending (held). */
  inviteeBonusCents: number;
  inviterRewards: PaidReward[];
  /** Emails written with the sign-up (to the inviter): the worker is woken for them after the commit. */
  mayHaveEmail: boolean;
  /** The webhook deliveries of its events, for the worker after the commit. */
  deliveryIds: number[];
}

/** The name was taken between the check and the write: nothing was written. */
export class UsernameTaken extends Error {
  constructor() {
    super("username taken");
    this.name = "UsernameTaken";
  }
}

export interface AccountWrite {
  account: NewAccount;
  inviterId: number | null;
  /** What the signals decided; ignored without an inviter. */
  referral: ReferralDecision & { sameAddress: boolean };
  rewards: RewardPolicy;
  now: number;
  session: NewSession;
  /** The session of the browser's previous login, ended as the new one starts. */
  endSessionIdHash: string | null;
  /** The browser's device cookie, remembered as one that knows the new account. */
  deviceIdHash: string;
  /** The keyed hash of the client's address, remembered for the shared-address signal; null: not kept. */
  addressHash: string | null;
  /** An email address typed at sign-up: its link and message are written with the account. */
  verification?: Omit<VerificationWrite, "userId"> | null;
}

/**
 * Writes the account, its first session, its referral and every credit the sign-up causes in one
 * transaction: one statement for the inviter's count, the user, the invitee's bonus, the referral,
 * the session and the device, and, on the sign-up that completes the inviter's next N, one more for
 * the reward. The inviter's count moves under its row lock, so concurrent sign-ups through one link
 * never lose an update and the every-Nth reward is paid exactly once per N. A held referral moves no
 * count: its bonus is written pending. Few statements, not one per row: on PGlite every statement is
 * planned and run on the event loop's thread, beside the hashing threads.
 */
export async function createAccount(db: Database, write: AccountWrite): Promise<AccountCreated> {
  const held = write.referral.status === "held";
  const writeAll = async (tx: Queryable): Promise<AccountCreated> => {
    const [created] = await queryPreparedRows<{
      user_id: string;
      inviter_id: string | null;
      count: number | null;
      notified?: number;
      deliveries: (number | string)[];
    }>(tx, accountStatement(write));
    const userId = Number(created?.user_id);
    const inviterId = created?.inviter_id == null ? null : Number(created.inviter_id);
    const { paid: rewards, deliveryIds: rewardDeliveryIds } =
      inviterId === null || held
        ? { paid: [], deliveryIds: [] }
        : await payInviterRewards(tx, write.rewards, {
            inviterId,
            signupUserId: userId,
            count: Number(created?.count ?? 0),
            now: write.now,
          });
    // A statement of its own, only for a sign-up with an address: the others pay nothing for it.
    const verificationSent = write.verification
      ? await startVerification(tx, { ...write.verification, userId })
      : false;
    return {
      userId,
      inviterId,
      referralStatus: inviterId === null ? null : write.referral.status,
      inviteeBonusCents: inviterId === null ? 0 : write.rewards.program.inviteeRewardCents,
      inviterRewards: rewards,
      // A reward's email is written only when the inviter has an address; waking costs one query.
      mayHaveEmail: Number(created?.notified ?? 0) > 0 || rewards.length > 0 || verificationSent,
      deliveryIds: [...deliveryIdsFrom(created?.deliveries), ...rewardDeliveryIds],
    };
  };
  try {
    // Without an inviter or an address the one statement is the whole sign-up, atomic on its own.
    return write.inviterId === null && !write.verification
      ? await writeAll(db)
      : await db.transaction(writeAll);
  } catch (error) {
    if (isUniqueViolation(error, "users_username_key_uq")) throw new UsernameTaken();
    throw error;
  }
}

/**
 * The events a sign-up writes: always user.created; through a link, referral.created; and when the
 * referral is not held, the invitee's bonus as reward.granted (none when there is no bonus row).
 */
function signupEvents(write: AccountWrite): StatementEvent[] {
  const written: StatementEvent[] = [
    {
      name: "user_event",
      type: "user.created",
      dataRows: sql`SELECT jsonb_build_object('user_id', id, 'username', ${write.account.username}::text,
        'invited_by_id', invited_by_id) FROM created`,
    },
  ];
  if (write.inviterId === null) return written;
  written.push({
    name: "referral_event",
    type: "referral.created",
    dataRows: sql`SELECT jsonb_build_object('inviter_id', invited_by_id, 'invitee_id', id,
      'status', ${write.referral.status}::text) FROM created WHERE invited_by_id IS NOT NULL`,
  });
  if (write.referral.status === "held") return written;
  written.push({
    name: "bonus_event",
    type: "reward.granted",
    dataRows: sql`SELECT jsonb_build_object('user_id', user_id, 'amount_cents', amount_cents,
      'reason', 'invitee_bonus', 'invitee_id', user_id, 'ledger_entry_id', id) FROM bonus`,
  });
  return written;
}

function accountStatement(write: AccountWrite): SQL {
  const { account, session, referral } = write;
  const bonus = write.rewards.program.inviteeRewardCents;
  const held = referral.status === "held";
  // A held referral reads the inviter without counting: it counts once approved. The reward rule
  // counts the progress carried over from the Django version too (rules.ts, countTowardRewards).
  const inviter = held
    ? sql`SELECT id, referred_count + carried_referrals AS reward_count FROM ${users}
      WHERE id = ${write.inviterId}::bigint AND is_active`
    : sql`UPDATE ${users} SET referred_count = referred_count + 1
      WHERE id = ${write.inviterId}::bigint AND is_active
      RETURNING id, referred_count + carried_referrals AS reward_count`;
  const credit = sql`CASE WHEN inviter.id IS NULL THEN 0 ELSE ${bonus}::bigint END`;
  return sql`WITH inviter AS (${inviter}), created AS (
      INSERT INTO ${users} (username, username_key, password_hash, referral_token, invited_by_id, ${
        held ? sql`pending_cents` : sql`balance_cents`
      })
      SELECT ${account.username}, ${account.usernameKey}, ${account.passwordHash}, ${account.referralToken},
        inviter.id, ${credit}
      FROM (SELECT 1) AS one LEFT JOIN inviter ON true
      RETURNING id, invited_by_id
    ), bonus AS (
      INSERT INTO ${ledgerEntries} (user_id, amount_cents, kind, signup_user_id, status)
      SELECT id, ${bonus}::bigint, 'invitee_bonus', id, ${held ? "pending" : "posted"} FROM created
      WHERE invited_by_id IS NOT NULL AND ${bonus}::bigint > 0
      RETURNING id, user_id, amount_cents
    ), ${eventCtes(signupEvents(write))}, referral AS (
      INSERT INTO ${referrals} (inviter_id, invitee_id, status, signals, same_address, hold_until, decided_at)
      SELECT invited_by_id, id, ${referral.status}, string_to_array(${referral.signals.join(",")}, ','),
        ${write.referral.sameAddress}::boolean, ${referral.holdUntil?.toISOString() ?? null}::timestamptz,
        ${held ? sql`NULL` : sql`now()`}
      FROM created WHERE invited_by_id IS NOT NULL
    ), started AS (
      INSERT INTO ${sessions} (id_hash, user_id, expires_at, user_agent, client_address)
      SELECT ${session.row.idHash}, id, ${session.row.expiresAt.toISOString()}::timestamptz,
        ${session.row.userAgent}, ${session.row.clientAddress}
      FROM created
    ), remembered AS (
      INSERT INTO ${knownDevices} (device_hash, user_id) SELECT ${write.deviceIdHash}, id FROM created
    )${
      write.inviterId === null
        ? sql``
        : sql`, notified AS (${notificationInsert({
            kind: "friend_joined",
            userId: sql`(SELECT invited_by_id FROM created)`,
            wants: "notify_friend_joined",
            params: sql`jsonb_build_object('username', u.username, 'friend', ${account.username}::text)`,
            status: write.rewards.mailStatus,
          })} RETURNING 1)`
    }${
      write.addressHash === null
        ? sql``
        : sql`, seen AS (${recordSighting(write.addressHash, sql`SELECT id FROM created`)})`
    }${
      write.endSessionIdHash === null
        ? sql``
        : sql`, ended AS (DELETE FROM ${sessions} WHERE id_hash = ${write.endSessionIdHash})`
    }
    SELECT created.id AS user_id, inviter.id AS inviter_id, inviter.reward_count AS count,
      ${deliveryIds} AS deliveries${write.inviterId === null ? sql`` : sql`, (SELECT count(*) FROM notified)::int AS notified`}
    FROM created LEFT JOIN inviter ON true`;
}

/**
 * Who owns a referral token, for the sign-up page's "alice invited you" (active users only). On the
 * hot path of every opened link, so it is built once per database as a named prepared
 * statement: a request neither rebuilds the query nor has PostgreSQL parse and plan it again.
 */
function inviterByTokenStatement(db: Database) {
  return db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(sql`${users.referralToken} = ${sql.placeholder("token")} AND ${users.isActive}`)
    .limit(1)
    .prepare("inviter_by_token");
}

const inviterStatements = new WeakMap<Database, ReturnType<typeof inviterByTokenStatement>>();

export async function findInviterByToken(
  db: Database,
  token: string,
): Promise<{ id: number; username: string } | null> {
  let statement = inviterStatements.get(db);
  if (!statement) {
    statement = inviterByTokenStatement(db);
    inviterStatements.set(db, statement);
  }
  const rows = await statement.execute({ token });
  return rows[0] ?? null;
}
