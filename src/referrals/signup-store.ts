// Storage of the sign-up path: every row a sign-up reads or writes (the new user, the inviter's
// count and balance, the ledger, the first session, the sign-up throttle counter) and its SQL.
import { type SQL, sql } from "drizzle-orm";
import type { NewSession } from "../accounts/sessions.js";
import type { ThrottleCounter } from "../accounts/throttle.js";
import type { ProgramConfig } from "../config.js";
import { type Database, type Queryable, queryPreparedRows } from "../db/connection.js";
import { isUniqueViolation } from "../db/errors.js";
import { knownDevices, ledgerEntries, sessions, users } from "../db/schema.js";
import { hitsOf, reserveHit } from "../db/throttle-counters.js";
import { type InviterReward, rewardsFor } from "./rules.js";

export interface SignupCheck {
  /** The address is at its limit: nothing was reserved. */
  throttled: boolean;
  usernameTaken: boolean;
  /** The active user whose link this is, or null. */
  inviterId: number | null;
}

/**
 * What a sign-up learns before it spends a hash, in one statement: whether the address is throttled
 * (reserving one sign-up when `reserve` holds), whether the name is taken, and whose link this is.
 */
export async function checkBeforeHashing(
  db: Database,
  request: {
    usernameKey: string | null;
    referralToken: string | null;
    counter: ThrottleCounter;
    reserve: boolean;
  },
): Promise<SignupCheck> {
  const [row] = await queryPreparedRows<{
    reserved: boolean;
    hits: number;
    taken: boolean;
    inviter_id: string | null;
  }>(
    db,
    sql`WITH slot AS (${reserveHit(request.counter, request.reserve)})
      SELECT EXISTS (SELECT 1 FROM slot) AS reserved, ${hitsOf(request.counter)} AS hits,
        EXISTS (SELECT 1 FROM ${users} WHERE username_key = ${request.usernameKey}) AS taken,
        (SELECT id FROM ${users} WHERE referral_token = ${request.referralToken} AND is_active) AS inviter_id`,
  );
  const hits = Number(row?.hits ?? 0);
  return {
    throttled: request.reserve ? row?.reserved !== true : hits >= request.counter.limit,
    usernameTaken: row?.taken === true,
    inviterId: row?.inviter_id == null ? null : Number(row.inviter_id),
  };
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
  inviteeBonusCents: number;
  inviterRewards: InviterReward[];
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
  program: ProgramConfig;
  session: NewSession;
  /** The session of the browser's previous login, ended as the new one starts. */
  endSessionIdHash: string | null;
  /** The browser's device cookie, remembered as one that knows the new account. */
  deviceIdHash: string;
}

/**
 * Writes the account, its first session and every credit the sign-up causes in one transaction:
 * one statement for the inviter's count, the user, the invitee's bonus, the session and the device,
 * and, on the sign-up that completes the inviter's next N, one more for the reward. The inviter's
 * count moves under its row lock, so concurrent sign-ups through one link never lose an update and
 * the every-Nth reward is paid exactly once per N. Two statements at most, not one per row: on
 * PGlite every statement is planned and run on the event loop's thread, beside the hashing threads.
 */
export async function createAccount(db: Database, write: AccountWrite): Promise<AccountCreated> {
  const { program } = write;
  const writeAll = async (tx: Queryable): Promise<AccountCreated> => {
    const [created] = await queryPreparedRows<{
      user_id: string;
      inviter_id: string | null;
      count: number | null;
    }>(tx, accountStatement(write));
    const userId = Number(created?.user_id);
    const inviterId = created?.inviter_id == null ? null : Number(created.inviter_id);
    const count = Number(created?.count ?? 0);
    const rewards = inviterId === null ? [] : rewardsFor(count - 1, count, program);
    if (inviterId !== null && rewards.length > 0) {
      await queryPreparedRows(tx, rewardStatement(inviterId, userId, rewards));
    }
    const bonus = inviterId === null ? 0 : program.inviteeRewardCents;
    return { userId, inviterId, inviteeBonusCents: bonus, inviterRewards: rewards };
  };
  try {
    // Without an inviter the one statement is the whole sign-up, atomic on its own.
    return write.inviterId === null ? await writeAll(db) : await db.transaction(writeAll);
  } catch (error) {
    if (isUniqueViolation(error, "users_username_key_uq")) throw new UsernameTaken();
    throw error;
  }
}

function accountStatement(write: AccountWrite): SQL {
  const { account, session } = write;
  const bonus = write.program.inviteeRewardCents;
  return sql`WITH inviter AS (
      UPDATE ${users} SET referred_count = referred_count + 1
      WHERE id = ${write.inviterId}::bigint AND is_active
      RETURNING id, referred_count
    ), created AS (
      INSERT INTO ${users} (username, username_key, password_hash, referral_token, invited_by_id, balance_cents)
      SELECT ${account.username}, ${account.usernameKey}, ${account.passwordHash}, ${account.referralToken},
        inviter.id, CASE WHEN inviter.id IS NULL THEN 0 ELSE ${bonus}::bigint END
      FROM (SELECT 1) AS one LEFT JOIN inviter ON true
      RETURNING id, invited_by_id
    ), bonus AS (
      INSERT INTO ${ledgerEntries} (user_id, amount_cents, kind, signup_user_id)
      SELECT id, ${bonus}::bigint, 'invitee_bonus', id FROM created
      WHERE invited_by_id IS NOT NULL AND ${bonus}::bigint > 0
    ), started AS (
      INSERT INTO ${sessions} (id_hash, user_id, expires_at, user_agent, client_address)
      SELECT ${session.row.idHash}, id, ${session.row.expiresAt.toISOString()}::timestamptz,
        ${session.row.userAgent}, ${session.row.clientAddress}
      FROM created
    ), remembered AS (
      INSERT INTO ${knownDevices} (device_hash, user_id) SELECT ${write.deviceIdHash}, id FROM created
    )${
      write.endSessionIdHash === null
        ? sql``
        : sql`, ended AS (DELETE FROM ${sessions} WHERE id_hash = ${write.endSessionIdHash})`
    }
    SELECT created.id AS user_id, inviter.id AS inviter_id, inviter.referred_count AS count
    FROM created LEFT JOIN inviter ON true`;
}

/** The inviter's rewards for this sign-up: their ledger entries and their balance. */
function rewardStatement(inviterId: number, signupUserId: number, rewards: InviterReward[]): SQL {
  const total = rewards.reduce((sum, reward) => sum + reward.amountCents, 0);
  const entries = sql.join(
    rewards.map(
      (reward) =>
        sql`(${inviterId}::bigint, ${reward.amountCents}::bigint, 'inviter_reward', ${signupUserId}::bigint, ${reward.referralCount}::integer)`,
    ),
    sql`, `,
  );
  return sql`WITH entries AS (
      INSERT INTO ${ledgerEntries} (user_id, amount_cents, kind, signup_user_id, referral_count)
      VALUES ${entries}
    )
    UPDATE ${users} SET balance_cents = balance_cents + ${total}::bigint WHERE id = ${inviterId}::bigint`;
}

/** Who owns a referral token, for the sign-up page's "alice invited you" (active users only). */
export async function findInviterByToken(
  db: Database,
  token: string,
): Promise<{ id: number; username: string } | null> {
  const rows = await db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(sql`${users.referralToken} = ${token} AND ${users.isActive}`)
    .limit(1);
  return rows[0] ?? null;
}
