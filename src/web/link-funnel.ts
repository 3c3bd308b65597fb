// The referral funnel as GET / and /referrals/ send it in JSON mode: the same three fields on both.
import type { LinkFunnel } from "../referrals/funnel.js";
import { integerField } from "./schemas.js";

export const linkFunnelFields = {
  link_opens: integerField,
  joined_count: integerField,
  rewards_earned: integerField,
};

export function linkFunnelJson(funnel: LinkFunnel) {
  return {
    link_opens: funnel.linkOpens,
    joined_count: funnel.joined,
    rewards_earned: funnel.rewardsEarned,
  };
}
