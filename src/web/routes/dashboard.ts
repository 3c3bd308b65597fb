// /: the dashboard, or in JSON mode the earlier version's {referral_link, balance} and more.
import type { FastifyInstance } from "fastify";
import { Unauthorized } from "../../errors.js";
import { progressToNextReward, wholeDollars } from "../../referrals/rules.js";
import type { AppDeps } from "../app-deps.js";
import { wantsJson } from "../negotiation.js";
import { referralLink, sendPage, siteOrigin } from "../respond.js";
import { dashboardPage } from "../views/dashboard-page.js";

export function dashboardRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get("/", async (request, reply) => {
    const user = request.user;
    if (!user) throw new Unauthorized();
    const link = referralLink(siteOrigin(request, deps.config.publicOrigin), user.referralToken);
    if (wantsJson(request)) {
      const progress = progressToNextReward(user.referredCount, deps.config.program);
      return reply.send({
        referral_link: link,
        balance: wholeDollars(user.balanceCents),
        balance_cents: user.balanceCents,
        referred_count: user.referredCount,
        referrals_until_next_reward: progress.untilNext,
      });
    }
    return sendPage(reply, dashboardPage({ csrfToken: request.csrfToken, user, referralLink: link }));
  });
}
