// Rewards as events: what the dashboard announces once (a welcome bonus received, an inviter's
// reward), and what the user has earned since joining.
import { sql } from "drizzle-orm";
import { type Queryable, queryRows } from "../db/connection.js";
import { ledgerEntries, users } from "../db/schema.js";

/** A credit the user has not been told about yet. */
export interface RewardNews {
  id: number;
  kind: "invitee_bonus" | "inviter_reward";
  amountCents: number;
  /** For a reward cut by the monthly limit: the part not paid. */
  cappedCents: number;
  /** For an inviter reward: the count that reached the threshold (5, 10, …). */
  referralCount: number | null;
  /** For a welcome bonus: whose link the user joined through. */
  inviterUsername: string | null;
}

export interface RewardsSeen {
  /** Oldest first; each is returned by one call only. */
  news: RewardNews[];
  /** Welcome bonus and inviter rewards posted since joining (not staff adjustments). */
  earnedCents: number;
}

/** Announced at most this many at once; the rest wait for the next visit. */
const NEWS_AT_ONCE = 10;

/**
 * The posted welcome bonus and inviter rewards newer than the last one announced, marked announced
 * in the same statement: of two visits at once, the one whose update finds the mark already moved
 * (it rechecks the row it waited for) announces nothing. Also the total
 * earned. Entries of one inviter are written under the inviter's row lock, so their ids grow in the
 * order they commit and none is skipped. A welcome bonus held for review is announced once approved,
 * unless a newer credit was announced first.
 */
export async function takeRewardNews(db: Queryable, userId: number): Promise<RewardsSeen> {
  const [row] = await queryRows<{
    news:
      | {
          id: number;
          kind: RewardNews["kind"];
          amount_cents: number;
          capped_cents: number | null;
          referral_count: number | null;
          inviter_username: string | null;
        }[]
      | null;
    earned: string | number | null;
  }>(
    db,
    sql`WITH news AS (
          SELECT l.id, l.kind, l.amount_cents, l.capped_cents, l.referral_count, inv.username AS inviter_username
          FROM ${ledgerEntries} l
          LEFT JOIN ${users} me ON me.id = l.user_id AND l.kind = 'invitee_bonus'
          LEFT JOIN ${users} inv ON inv.id = me.invited_by_id
          WHERE l.user_id = ${userId} AND l.status = 'posted' AND l.kind IN ('invitee_bonus', 'inviter_reward')
            AND l.id > (SELECT announced_entry_id FROM ${users} WHERE id = ${userId})
          ORDER BY l.id LIMIT ${NEWS_AT_ONCE}
        ), marked AS (
          UPDATE ${users} SET announced_entry_id = GREATEST(announced_entry_id, (SELECT max(id) FROM news))
          WHERE id = ${userId} AND announced_entry_id < (SELECT max(id) FROM news)
          RETURNING 1
        )
        SELECT
          (SELECT json_agg(news ORDER BY news.id) FROM news WHERE EXISTS (SELECT 1 FROM marked)) AS news,
          (SELECT COALESCE(SUM(amount_cents), 0) FROM ${ledgerEntries}
            WHERE user_id = ${userId} AND status = 'posted' AND kind IN ('invitee_bonus', 'inviter_reward')) AS earned`,
  );
  return {
    news: (row?.news ?? []).map((n) => ({
      id: Number(n.id),
      kind: n.kind,
      amountCents: Number(n.amount_cents),
      cappedCents: Number(n.capped_cents ?? 0),
      referralCount: n.referral_count === null ? null : Number(n.referral_count),
      inviterUsername: n.inviter_username,
    })),
    earnedCents: Number(row?.earned ?? 0),
  };
}
