// The programme's rules, as pure functions: no database, no HTTP.
import type { ProgramConfig } from "../config.js";

export const defaultProgram: ProgramConfig = {
  inviteeRewardCents: 1000,
  inviterRewardCents: 1000,
  referralsPerInviterReward: 5,
};

/** One credit the inviter earns when their referred count crosses a multiple of the threshold. */
export interface InviterReward {
  amountCents: number;
  /** The referred count that reached the threshold (5, 10, 15, ...). */
  referralCount: number;
}

/**
 * The inviter rewards earned when the referred count goes from `invitedCountBefore` to
 * `invitedCountAfter`: one per multiple of the threshold crossed.
 */
export function rewardsFor(
  invitedCountBefore: number,
  invitedCountAfter: number,
  program: ProgramConfig,
): InviterReward[] {
  const every = program.referralsPerInviterReward;
  const rewards: InviterReward[] = [];
  if (program.inviterRewardCents <= 0) return rewards;
  const first = Math.floor(invitedCountBefore / every) + 1;
  const last = Math.floor(invitedCountAfter / every);
  for (let k = first; k <= last; k++) {
    rewards.push({ amountCents: program.inviterRewardCents, referralCount: k * every });
  }
  return rewards;
}

/** What an inviter has earned in all after `referredCount` sign-ups: floor(n / 5) * $10. */
export function inviterEarningsCents(referredCount: number, program: ProgramConfig): number {
  return Math.floor(referredCount / program.referralsPerInviterReward) * program.inviterRewardCents;
}

export interface ReferralProgress {
  /** Sign-ups counted toward the next reward (0 to threshold - 1). */
  towardNext: number;
  /** Sign-ups still needed for the next reward (1 to threshold). */
  untilNext: number;
  every: number;
}

/**
 * The count the inviter's rewards are paid on: the sign-ups approved here (referred_count) and the
 * progress carried over from the earlier Django version (carried_referrals, 0 to 4), so a user who
 * had 3 there is paid at the 2nd sign-up here, and every 5th after that.
 */
export function countTowardRewards(user: { referredCount: number; carriedReferrals: number }): number {
  return user.referredCount + user.carriedReferrals;
}

/** Where the inviter stands toward the next reward, from countTowardRewards. */
export function progressToNextReward(rewardCount: number, program: ProgramConfig): ReferralProgress {
  const every = program.referralsPerInviterReward;
  const towardNext = rewardCount % every;
  return { towardNext, untilNext: every - towardNext, every };
}
