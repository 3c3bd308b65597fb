// The dashboard: balance, the referral link (views/share.ts: Copy, sharing, a QR code; first on a
// phone), progress toward the next reward, the latest people who joined, and logging out on every device.
import type { SessionUser } from "../../accounts/sessions.js";
import { formatDollars, PENDING_WORDS } from "../../format.js";
import type { Referral, ReferralStanding } from "../../referrals/history.js";
import type { ReferralProgress } from "../../referrals/rules.js";
import { html, type SafeHtml } from "../html.js";
import { type EmailSectionModel, emailCard } from "./address-pages.js";
import { referralsTable, standingWords } from "./history-page.js";
import { csrfField, layout } from "./layout.js";
import { referralLinkCard } from "./share.js";

export interface DashboardModel {
  csrfToken: string;
  user: SessionUser;
  referralLink: string;
  /** The link as a QR code, an SVG the service drew itself. */
  qrSvg: string;
  progress: ReferralProgress;
  inviterRewardCents: number;
  inviteeRewardCents: number;
  standing: ReferralStanding;
  /** Credits not announced before, in words: said once, on this visit. */
  rewardNews: string[];
  /** Welcome bonus and inviter rewards since joining. */
  earnedCents: number;
  /** What credit can be used for, as staff wrote it; "" shows nothing. */
  creditUse: string;
  /** "3 people opened your link · 1 joined · 0 rewards earned". */
  funnel: string;
  latestReferrals: Referral[];
  moreReferrals: boolean;
  /** The verified address and the one waiting for confirmation (views/address-pages.ts). */
  email: EmailSectionModel;
}

function people(n: number): string {
  return n === 1 ? "1 person" : `${n} people`;
}

/** What is pending or was refused about the user's own welcome credit, in plain words. */
function ownReferralNotice(model: DashboardModel): SafeHtml | null {
  const own = model.standing.own;
  if (own?.status === "held" && model.user.pendingCents > 0) {
    return html`<div class="alert alert-info" role="status" id="pending-notice">
  Your ${formatDollars(model.user.pendingCents)} welcome credit is ${PENDING_WORDS}. It joins your balance once approved.
</div>`;
  }
  if (own?.status === "rejected") {
    return html`<div class="alert alert-secondary" role="status" id="rejected-notice">
  Your welcome credit was not approved${own.reason ? html`: ${own.reason}` : "."}
</div>`;
  }
  return null;
}

export function dashboardPage(model: DashboardModel): SafeHtml {
  const { user, progress } = model;
  const joined = model.standing.approved + model.standing.held + model.standing.rejected;
  const reward = formatDollars(model.inviterRewardCents);
  return layout(
    {
      title: "Dashboard",
      csrfToken: model.csrfToken,
      username: user.username,
      isStaff: user.isStaff,
      scripts: ["/static/client/dashboard.js"],
    },
    html`<h1 class="h3 mb-4">Hello, ${user.username}!</h1>
${
  model.rewardNews.length > 0
    ? html`<div class="alert alert-success" role="status" id="reward-news">${model.rewardNews.map((words) => html`<p class="mb-0">${words}</p>`)}</div>`
    : null
}
${ownReferralNotice(model)}
<div class="row g-4">
  <div class="col-12 col-lg-5">
    <section class="card shadow-sm mb-4" aria-labelledby="balance-heading">
      <div class="card-body">
        <h2 class="h6 text-body-secondary text-uppercase" id="balance-heading">Your balance</h2>
        <p class="display-5 fw-semibold mb-1" id="balance">${formatDollars(user.balanceCents)}</p>
        ${
          user.pendingCents > 0
            ? html`<p class="mb-1 text-body-secondary" id="pending">+ ${formatDollars(user.pendingCents)} pending</p>`
            : null
        }
        <p class="mb-1 small" id="earned">Earned since you joined: <strong>${formatDollars(model.earnedCents)}</strong></p>
        ${model.creditUse ? html`<p class="mb-1 small text-body-secondary" id="credit-use">${model.creditUse}</p>` : null}
        <a href="/history/">See your credit history</a>
      </div>
    </section>
    <section class="card shadow-sm" aria-labelledby="progress-heading">
      <div class="card-body">
        <h2 class="h6 text-body-secondary text-uppercase" id="progress-heading">Next reward</h2>
        <p class="mb-2" id="progress-text">${progress.towardNext} of ${progress.every} sign-ups toward your next ${reward}</p>
        <progress class="referral-progress w-100" id="referral-progress" max="${progress.every}" value="${progress.towardNext}"
          aria-labelledby="progress-text">${progress.towardNext} of ${progress.every}</progress>
        ${
          model.standing.held > 0
            ? html`<p class="mt-2 mb-0" id="held-referrals">${people(model.standing.held)} who joined through your link ${
                model.standing.held === 1 ? "is" : "are"
              } ${PENDING_WORDS}; ${model.standing.held === 1 ? "it counts" : "they count"} toward your next reward once approved.</p>`
            : null
        }
        <p class="mt-2 mb-0 small text-body-secondary">Every ${progress.every} friends who join through your link earn you ${reward};
          each of them gets ${formatDollars(model.inviteeRewardCents)} too.</p>
      </div>
    </section>
  </div>
  <div class="col-12 col-lg-7 order-first order-lg-last">
    ${referralLinkCard({ referralLink: model.referralLink, qrSvg: model.qrSvg, inviteeRewardCents: model.inviteeRewardCents })}
  </div>
</div>
<section class="card shadow-sm mt-4" aria-labelledby="referrals-heading">
  <div class="card-body pb-0">
    <h2 class="h5" id="referrals-heading">People who joined through your link</h2>
    <p class="fw-semibold" id="link-funnel">${model.funnel}</p>
    <p id="referred-count">${people(joined)} ${joined === 1 ? "has" : "have"} joined through your link${
      joined > model.standing.approved ? html` (${standingWords(model.standing)})` : null
    }.</p>
  </div>
  ${model.latestReferrals.length > 0 ? referralsTable(model.latestReferrals, "The latest, newest first.") : null}
  ${
    model.moreReferrals
      ? html`<div class="card-body"><a href="/referrals/" class="btn btn-outline-primary btn-sm">See everyone who joined</a></div>`
      : null
  }
</section>
${emailCard(model.csrfToken, model.email)}
<section class="card shadow-sm mt-4" aria-labelledby="security-heading">
  <div class="card-body">
    <h2 class="h5" id="security-heading">Security</h2>
    <p>Lost a device or logged in on a shared computer? End every session of your account, here and elsewhere.</p>
    <form method="post" action="/logout/everywhere/">
      ${csrfField(model.csrfToken)}
      <button type="submit" class="btn btn-outline-danger" id="logout-everywhere">Log out on every device</button>
    </form>
    <p class="mt-3 mb-0 small">Leaving for good? <a href="/account/delete/" id="delete-account-link">Delete your account</a>.</p>
  </div>
</section>`,
  );
}
