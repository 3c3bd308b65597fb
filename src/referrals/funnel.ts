// A user's referral funnel: how many opened their link, how many joined through it, how many rewards
// that earned. Pure, from the session's user row: the dashboard pays no query for it.
import type { ProgramConfig } from "../config.js";
import { countTowardRewards } from "./rules.js";

export interface LinkFunnel {
  /** Visitors who opened the link (each at most once per day; may lag a few seconds). */
  linkOpens: number;
  /** People who joined through the link and whose referral is approved: users.referred_count. */
  joined: number;
  /**
   * Inviter rewards reached here: one per REFERRALS_PER_INVITER_REWARD approved referrals, counted
   * with the progress carried over from the Django version (which never joined here, so not in `joined`).
   */
  rewardsEarned: number;
}

export function linkFunnelOf(
  user: { linkOpens: number; referredCount: number; carriedReferrals?: number },
  program: Pick<ProgramConfig, "referralsPerInviterReward">,
): LinkFunnel {
  const rewardCount = countTowardRewards({ ...user, carriedReferrals: user.carriedReferrals ?? 0 });
  return {
    linkOpens: user.linkOpens,
    joined: user.referredCount,
    rewardsEarned: Math.floor(rewardCount / program.referralsPerInviterReward),
  };
}

/** The funnel's three parts in words, for a page to join: ["3 people opened your link", "1 joined", …]. */
export function linkFunnelParts(funnel: LinkFunnel): [string, string, string] {
  const n = (value: number) => value.toLocaleString("en-US");
  return [
    `${n(funnel.linkOpens)} ${funnel.linkOpens === 1 ? "person" : "people"} opened your link`,
    `${n(funnel.joined)} joined`,
    `${n(funnel.rewardsEarned)} ${funnel.rewardsEarned === 1 ? "reward" : "rewards"} earned`,
  ];
}

/** "3 people opened your link · 1 joined · 0 rewards earned". */
export function describeLinkFunnel(funnel: LinkFunnel): string {
  return linkFunnelParts(funnel).join(" · ");
}
