// Storage of the sign-up path: every row a sign-up reads or writes (the new user, the inviter's
// count and balance, the ledger, the first session, the sign-up throttle counter) and its SQL.
import { eq, sql } from "drizzle-orm";
import type { NewSession } from "../accounts/sessions.js";
import type { ThrottleCounter } from "../accounts/throttle.js";
import type { ProgramConfig } from "../config.js";
import { type Database, queryPreparedRows } from "../db/connection.js";
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

/**
 * Writes the account, its first session and every credit the sign-up causes in one transaction. The
 * inviter's count moves under its row lock, so concurrent sign-ups through one link never lose an
 * update and the every-Nth reward is paid exactly once per N.
 */
export async function createAccount(
  db: Database,
  write: {
    account: NewAccount;
    inviterId: number | null;
    program: ProgramConfig;
    session: NewSession;
    /** The session of the browser's previous login, ended as the new one starts. */
    endSessionIdHash: string | null;
    /** The browser's device cookie, remembered as one that knows the new account. */
    deviceIdHash: string;
  },
): Promise<AccountCreated> {
  const { account, program } = write;
  try {
    return await db.transaction(async (tx) => {
      const [inviter] =
        write.inviterId === null
          ? []
          : await tx
              .update(users)
              .set({ referredCount: sql`${users.referredCount} + 1` })
              .where(sql`${users.id} = ${write.inviterId} AND ${users.isActive}`)
              .returning({ id: users.id, referredCount: users.referredCount });
      const bonus = inviter ? program.inviteeRewardCents : 0;
      const [created] = await tx
        .insert(users)
        .values({ ...account, invitedById: inviter?.id ?? null, balanceCents: bonus })
        .returning({ id: users.id });
      const userId = (created as { id: number }).id;
      const rewards = inviter ? rewardsFor(inviter.referredCount - 1, inviter.referredCount, program) : [];
      const credits = [
        ...(bonus > 0
          ? [{ userId, amountCents: bonus, kind: "invitee_bonus" as const, signupUserId: userId }]
          : []),
        ...rewards.map((reward) => ({
          userId: inviter?.id as number,
          amountCents: reward.amountCents,
          kind: "inviter_reward" as const,
          signupUserId: userId,
          referralCount: reward.referralCount,
        })),
      ];
      if (credits.length > 0) await tx.insert(ledgerEntries).values(credits);
      const rewardCents = rewards.reduce((sum, reward) => sum + reward.amountCents, 0);
      if (inviter && rewardCents > 0) {
        await tx
          .update(users)
          .set({ balanceCents: sql`${users.balanceCents} + ${rewardCents}` })
          .where(eq(users.id, inviter.id));
      }
      await tx.insert(sessions).values({ ...write.session.row, userId });
      await tx.insert(knownDevices).values({ deviceHash: write.deviceIdHash, userId });
      if (write.endSessionIdHash !== null) {
        await tx.delete(sessions).where(eq(sessions.idHash, write.endSessionIdHash));
      }
      return { userId, inviterId: inviter?.id ?? null, inviteeBonusCents: bonus, inviterRewards: rewards };
    });
  } catch (error) {
    if (isUniqueViolation(error, "users_username_key_uq")) throw new UsernameTaken();
    throw error;
  }
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
