// The dashboard: balance, referral link and how the programme is going for this user.
import type { SessionUser } from "../../accounts/sessions.js";
import { formatDollars } from "../../referrals/rules.js";
import { html, type SafeHtml } from "../html.js";
import { layout } from "./layout.js";

export interface DashboardModel {
  csrfToken: string;
  user: SessionUser;
  referralLink: string;
}

export function dashboardPage(model: DashboardModel): SafeHtml {
  const { user } = model;
  return layout(
    { title: "Dashboard", csrfToken: model.csrfToken, username: user.username, isStaff: user.isStaff },
    html`<h1 class="h3 mb-4">Hello, ${user.username}!</h1>
<div class="row g-4">
  <div class="col-12 col-md-5">
    <div class="card shadow-sm h-100">
      <div class="card-body">
        <h2 class="h6 text-body-secondary text-uppercase">Your balance</h2>
        <p class="display-5 fw-semibold mb-0" id="balance">${formatDollars(user.balanceCents)}</p>
      </div>
    </div>
  </div>
  <div class="col-12 col-md-7">
    <div class="card shadow-sm h-100">
      <div class="card-body">
        <h2 class="h6 text-body-secondary text-uppercase">Your referral link</h2>
        <label for="referral-link" class="visually-hidden">Your referral link</label>
        <input id="referral-link" class="form-control font-monospace" readonly value="${model.referralLink}">
        <p class="mt-2 mb-0 small">${user.referredCount} ${user.referredCount === 1 ? "person has" : "people have"} joined through your link.</p>
      </div>
    </div>
  </div>
</div>`,
  );
}
