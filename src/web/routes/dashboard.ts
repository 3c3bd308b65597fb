// /: the dashboard, or in JSON mode the earlier version's {referral_link, balance} and more.
import type { FastifyInstance } from "fastify";
import { creditUseText } from "../../admin/programme-text.js";
import { emailStateOf } from "../../email/verification-store.js";
import { rewardNewsWords, wholeDollars } from "../../format.js";
import { describeLinkFunnel, linkFunnelOf } from "../../referrals/funnel.js";
import { referralStanding, referralsOf } from "../../referrals/history.js";
import { takeRewardNews } from "../../referrals/reward-news.js";
import { countTowardRewards, progressToNextReward } from "../../referrals/rules.js";
import type { AppDeps } from "../app-deps.js";
import { forUser } from "../guards.js";
import { linkFunnelFields, linkFunnelJson } from "../link-funnel.js";
import { wantsJson } from "../negotiation.js";
import { qrCodeSvg } from "../qr.js";
import { referralLink, sendPage, siteOrigin } from "../respond.js";
import { integerField, objectSchema, stringField } from "../schemas.js";
import { emailSection } from "../views/address-pages.js";
import { dashboardPage } from "../views/dashboard-page.js";
import { emailStateFields, emailStateJson } from "./email-address.js";

/** How many of the latest referrals the dashboard lists; /referrals/ has them all. */
const DASHBOARD_REFERRALS = 5;

/** The earlier version's {referral_link, balance}, and more. */
const dashboardSchema = {
  response: {
    200: objectSchema({
      referral_link: stringField,
      balance: integerField,
      balance_cents: integerField,
      pending_cents: integerField,
      referred_count: integerField,
      referrals_until_next_reward: integerField,
      ...linkFunnelFields,
      ...emailStateFields,
    }),
  },
};

export function dashboardRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { program } = deps.config;
  app.get("/", {
    schema: dashboardSchema,
    ...forUser(async (request, reply) => {
      const user = request.user;
      const link = referralLink(siteOrigin(request, deps.config.publicOrigin), user.referralToken);
      const progress = progressToNextReward(countTowardRewards(user), program);
      if (wantsJson(request)) {
        // Everything here comes from the session query: no further database round trip.
        return reply.send({
          referral_link: link,
          balance: wholeDollars(user.balanceCents),
          balance_cents: user.balanceCents,
          pending_cents: user.pendingCents,
          referred_count: user.referredCount,
          referrals_until_next_reward: progress.untilNext,
          ...linkFunnelJson(linkFunnelOf(user, program)),
          ...emailStateJson(user),
        });
      }
      const [qrSvg, latest, standing, rewards, creditUse, emailState] = await Promise.all([
        qrCodeSvg(link),
        referralsOf(deps.db, user.id, { cursor: null, size: DASHBOARD_REFERRALS }),
        referralStanding(deps.db, user.id),
        takeRewardNews(deps.db, user.id),
        creditUseText(deps.db),
        user.pendingEmail === null ? null : emailStateOf(deps.db, user.id),
      ]);
      return sendPage(
        reply,
        dashboardPage({
          csrfToken: request.csrfToken,
          user,
          referralLink: link,
          qrSvg,
          progress,
          inviterRewardCents: program.inviterRewardCents,
          inviteeRewardCents: program.inviteeRewardCents,
          standing,
          rewardNews: rewards.news.map((news) => rewardNewsWords(news, program)),
          earnedCents: rewards.earnedCents,
          creditUse,
          funnel: describeLinkFunnel(linkFunnelOf(user, program)),
          latestReferrals: latest.items,
          moreReferrals: latest.nextCursor !== null,
          email: emailSection(user, emailState, deps.clock?.() ?? Date.now()),
        }),
      );
    }),
  });
}
