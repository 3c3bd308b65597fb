// Paying an inviter: the rewards a referred count earns, cut to the monthly limit, written as ledger
// entries with the inviter's balance. Called with the inviter's row locked by the count's update, by
// the sign-up and by the approval of a held referral alike.
import { type SQL, sql } from "drizzle-orm";
import type { ProgramConfig } from "../config.js";
import { type Queryable, queryPreparedRows, queryRows } from "../db/connection.js";
import { ledgerEntries, referrals, users } from "../db/schema.js";
import { type MailDeps, notificationInsert } from "../email/outbox.js";
import { deliveryIds, deliveryIdsFrom, eventCtes } from "../events/events.js";
import { capRewards, monthStart, type PaidReward } from "./integrity.js";
import { rewardsFor } from "./rules.js";

export interface RewardPolicy {
  program: ProgramConfig;
  monthlyCapCents: number | null;
  /** The status a "you earned a reward" email is written with (src/email/outbox.ts). */
  mailStatus: MailDeps["initialStatus"];
}

/**
 * The rewards for the inviter's referred count reaching `count` because of `signupUserId`'s
 * referral, paid in one statement (none when the count completes no five), with the ids of their
 * events' webhook deliveries. The caller holds the inviter's row lock, so the month's earlier
 * rewards read here cannot change before the write.
 */
export async function payInviterRewards(
  tx: Queryable,
  policy: RewardPolicy,
  paying: { inviterId: number; signupUserId: number; count: number; now: number },
): Promise<{ paid: PaidReward[]; deliveryIds: number[] }> {
  const rewards = rewardsFor(paying.count - 1, paying.count, policy.program);
  if (rewards.length === 0) return { paid: [], deliveryIds: [] };
  const paidThisMonth =
    policy.monthlyCapCents === null
      ? 0
      : await rewardsPaidSince(tx, paying.inviterId, monthStart(paying.now));
  const paid = capRewards(rewards, paidThisMonth, policy.monthlyCapCents);
  const [row] = await queryPreparedRows<{ deliveries: (number | string)[] }>(
    tx,
    rewardStatement(paying.inviterId, paying.signupUserId, paid, policy.mailStatus),
  );
  return { paid, deliveryIds: deliveryIdsFrom(row?.deliveries) };
}

async function rewardsPaidSince(tx: Queryable, inviterId: number, since: Date): Promise<number> {
  const [row] = await queryRows<{ paid: string | number | null }>(
    tx,
    sql`SELECT COALESCE(SUM(amount_cents), 0) AS paid FROM ${ledgerEntries}
        WHERE user_id = ${inviterId} AND kind = 'inviter_reward' AND created_at >= ${since.toISOString()}::timestamptz`,
  );
  return Number(row?.paid ?? 0);
}

/**
 * The inviter's reward entries and balance, the event `reward.granted` for each, and the email that
 * tells them (if they have a verified address and want it); a reward cut by the limit also marks
 * its referral.
 */
function rewardStatement(
  inviterId: number,
  signupUserId: number,
  rewards: PaidReward[],
  mailStatus: MailDeps["initialStatus"],
): SQL {
  const total = rewards.reduce((sum, reward) => sum + reward.amountCents, 0);
  const capped = rewards.some((reward) => reward.cappedCents > 0);
  const entries = sql.join(
    rewards.map(
      (reward) =>
        sql`(${inviterId}::bigint, ${reward.amountCents}::bigint, 'inviter_reward', ${signupUserId}::bigint, ${reward.referralCount}::integer, ${reward.cappedCents > 0 ? reward.cappedCents : null}::bigint)`,
    ),
    sql`, `,
  );
  return sql`WITH entries AS (
      INSERT INTO ${ledgerEntries} (user_id, amount_cents, kind, signup_user_id, referral_count, capped_cents)
      VALUES ${entries}
      RETURNING id, user_id, amount_cents, signup_user_id, referral_count
    ), ${eventCtes([
      {
        name: "granted",
        type: "reward.granted",
        dataRows: sql`SELECT jsonb_build_object('user_id', user_id, 'amount_cents', amount_cents,
        'reason', 'inviter_reward', 'invitee_id', signup_user_id, 'referral_count', referral_count,
        'ledger_entry_id', id) FROM entries WHERE amount_cents > 0`,
      },
    ])}, told AS (${notificationInsert({
      kind: "reward_earned",
      userId: sql`${inviterId}::bigint`,
      wants: "notify_rewards",
      params: sql`jsonb_build_object('username', u.username, 'amount_cents', ${total}::bigint)`,
      status: mailStatus,
    })})${
      capped
        ? sql`, marked AS (UPDATE ${referrals} SET capped = true WHERE invitee_id = ${signupUserId}::bigint)`
        : sql``
    }
    UPDATE ${users} SET balance_cents = balance_cents + ${total}::bigint WHERE id = ${inviterId}::bigint
    RETURNING ${deliveryIds} AS deliveries`;
}
