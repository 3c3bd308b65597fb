// The credit history and referrals pages: tables, newest first, with a link to older rows.
import type { ProgramConfig } from "../../config.js";
import {
  dayText,
  dayTimeText,
  describeLedgerLine,
  formatDollars,
  isoTime,
  referralReason,
  signedDollars,
} from "../../format.js";
import type { LedgerLine, Referral, ReferralStanding } from "../../referrals/history.js";
import { html, type SafeHtml } from "../html.js";
import { layout, pageLinks } from "./layout.js";

export function dateCell(date: Date, withTime = false): SafeHtml {
  return html`<time datetime="${isoTime(date)}">${withTime ? dayTimeText(date) : dayText(date)}</time>`;
}

export interface HistoryPageModel {
  csrfToken: string;
  username: string;
  isStaff: boolean;
  balanceCents: number;
  pendingCents: number;
  lines: LedgerLine[];
  program: ProgramConfig;
  nextPage: string | null;
  /** The page of newer entries, when this is not the first page. */
  previousPage: string | null;
  firstPage: boolean;
}

export function historyPage(model: HistoryPageModel): SafeHtml {
  return layout(
    { title: "Credit history", csrfToken: model.csrfToken, username: model.username, isStaff: model.isStaff },
    html`<div class="d-flex flex-wrap justify-content-between align-items-baseline gap-2 mb-3">
  <h1 class="h3 mb-0">Credit history</h1>
  <p class="mb-0">Balance now: <strong>${formatDollars(model.balanceCents)}</strong>${
    model.pendingCents > 0
      ? html` <span class="text-body-secondary">(${formatDollars(model.pendingCents)} pending)</span>`
      : null
  }</p>
</div>
<div class="card shadow-sm">
  ${
    model.lines.length === 0
      ? html`<div class="card-body"><p class="mb-0">${
          model.firstPage
            ? "No credit yet. Share your referral link: every friend who joins brings you closer to a reward."
            : "No older entries."
        }</p></div>`
      : html`<div class="table-responsive">
  <table class="table table-striped align-middle mb-0" id="history">
    <caption class="px-3">Every credit to your account, newest first, with the balance it left.</caption>
    <thead><tr><th scope="col">Entry</th><th scope="col" class="text-end">Amount</th><th scope="col" class="text-end">Balance</th></tr></thead>
    <tbody>
      ${model.lines.map(
        (line) => html`<tr>
        <td>${describeLedgerLine(line, model.program)}<div class="small text-body-secondary">${dateCell(line.createdAt, true)}</div></td>
        <td class="text-end text-nowrap ${amountClass(line)}">${
          line.status === "posted"
            ? signedDollars(line.amountCents)
            : html`<span class="${line.status === "void" ? "text-decoration-line-through" : ""}">${signedDollars(line.amountCents)}</span><div class="small">${line.status === "pending" ? "pending" : "not paid"}</div>`
        }</td>
        <td class="text-end text-nowrap">${formatDollars(line.balanceAfterCents)}</td>
      </tr>`,
      )}
    </tbody>
  </table>
</div>`
  }
</div>
${pageLinks({
  // A page reached going back that has nothing newer is the newest already.
  first:
    model.firstPage || (model.previousPage === null && model.lines.length > 0)
      ? null
      : { href: "/history/", label: "Newest" },
  previous: { href: model.previousPage, label: "Newer entries" },
  next: { href: model.nextPage, label: "Older entries" },
})}`,
  );
}

function amountClass(line: LedgerLine): string {
  if (line.status !== "posted") return "text-body-secondary";
  return line.amountCents < 0 ? "text-danger" : "text-success";
}

const statusBadges = {
  approved: "text-bg-success",
  held: "text-bg-warning",
  rejected: "text-bg-secondary",
} as const;

function referralStatusCell(r: Referral): SafeHtml {
  const label = { approved: "Approved", held: "Being checked", rejected: "Not approved" }[r.status];
  const detail = r.status === "held" || (r.status === "approved" && !r.capped) ? null : referralReason(r);
  return html`<span class="badge ${statusBadges[r.status]}">${label}</span>${
    detail ? html`<div class="small text-body-secondary">${detail}</div>` : null
  }`;
}

export function referralsTable(referrals: Referral[], caption: string): SafeHtml {
  return html`<div class="table-responsive">
  <table class="table table-striped align-middle mb-0" id="referrals">
    <caption class="px-3">${caption}</caption>
    <thead><tr><th scope="col">Username</th><th scope="col">Joined</th><th scope="col">Status</th></tr></thead>
    <tbody>
      ${referrals.map(
        (r) =>
          html`<tr><td class="text-break">${r.username}</td><td class="text-nowrap">${dateCell(r.joinedAt)}</td><td>${referralStatusCell(r)}</td></tr>`,
      )}
    </tbody>
  </table>
</div>`;
}

/** "3 approved · 1 being checked · 1 not approved", leaving out what is zero (but never everything). */
export function standingWords(standing: ReferralStanding): string {
  const parts = [
    `${standing.approved} approved`,
    standing.held > 0 ? `${standing.held} being checked` : null,
    standing.rejected > 0 ? `${standing.rejected} not approved` : null,
  ];
  return parts.filter((part) => part !== null).join(" · ");
}

export interface ReferralsPageModel {
  csrfToken: string;
  username: string;
  isStaff: boolean;
  standing: ReferralStanding;
  referrals: Referral[];
  nextPage: string | null;
  /** The page of newer sign-ups, when this is not the first page. */
  previousPage: string | null;
  firstPage: boolean;
}

export function referralsPage(model: ReferralsPageModel): SafeHtml {
  return layout(
    { title: "Your referrals", csrfToken: model.csrfToken, username: model.username, isStaff: model.isStaff },
    html`<h1 class="h3 mb-3">People who joined through your link</h1>
<p id="referral-standing">${standingWords(model.standing)}.</p>
<div class="card shadow-sm">
  ${
    model.referrals.length === 0
      ? model.firstPage
        ? html`<div class="card-body" id="referrals-empty">
    <p class="fw-semibold mb-2">Nobody has joined through your link yet.</p>
    <p class="mb-3">Share your referral link: copy it (or show its QR code) from your dashboard and send it to
    friends. Everyone who signs up through it appears here, and every few sign-ups earn you a reward.</p>
    <a class="btn btn-primary" href="/#referral-link">Get your link on the dashboard</a>
  </div>`
        : html`<div class="card-body"><p class="mb-0">No one earlier.</p></div>`
      : referralsTable(model.referrals, "Newest first.")
  }
</div>
${pageLinks({
  first:
    model.firstPage || (model.previousPage === null && model.referrals.length > 0)
      ? null
      : { href: "/referrals/", label: "Newest" },
  previous: { href: model.previousPage, label: "Newer sign-ups" },
  next: { href: model.nextPage, label: "Earlier sign-ups" },
})}`,
  );
}
