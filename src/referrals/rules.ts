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

export function progressToNextReward(referredCount: number, program: ProgramConfig): ReferralProgress {
  const every = program.referralsPerInviterReward;
  const towardNext = referredCount % every;
  return { towardNext, untilNext: every - towardNext, every };
}

/** Whole dollars, as the earlier version's JSON `balance` (rounded down: never shows money not there). */
export function wholeDollars(cents: number): number {
  return Math.floor(cents / 100);
}

/** "-1234.50": plain decimal dollars, for CSV and other machine-read text. */
export function decimalDollars(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** "$1,234.50" */
export function formatDollars(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100).toLocaleString("en-US");
  const rest = String(abs % 100).padStart(2, "0");
  return `${sign}$${dollars}.${rest}`;
}
