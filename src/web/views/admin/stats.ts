// /admin/stats/: programme analytics for a period, as figures, SVG charts and tables.
import { PERIOD_PRESETS, type ProgrammeStats } from "../../../admin/stats.js";
import { compactDollars, formatDollars, shortDay, signedDollars } from "../../../format.js";
import { html, type SafeHtml } from "../../html.js";
import { barChart, horizontalBarChart } from "../svg-chart.js";
import { type AdminFrame, adminLayout, userLink } from "./layout.js";

function percent(value: number | null): string {
  return value === null ? "—" : `${(value * 100).toFixed(1)}%`;
}

export function formatKFactor(value: number | null): string {
  return value === null ? "—" : value.toFixed(3);
}

function countAxis(n: number): string {
  return n >= 10_000
    ? `${(n / 1000).toLocaleString("en-US", { maximumFractionDigits: 1 })}k`
    : n.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

/** A count of referrals with their bonuses beside it, on one line; in the totals row, with an id. */
function referralCell(count: number, cents: number, totalId?: string): SafeHtml {
  return html`<td class="text-end text-nowrap"${totalId ? html` id="total-${totalId}"` : null}>${count.toLocaleString("en-US")} <span class="small text-body-secondary">${formatDollars(cents)}</span></td>`;
}

export function statsPage(
  model: AdminFrame & {
    stats: ProgrammeStats;
    error?: string | null;
  },
): SafeHtml {
  const { stats } = model;
  const { period, totals } = stats;
  const labels = stats.days.map((d) => d.day);
  const card = (label: string, value: string, id: string, note?: string) =>
    html`<div class="col-6 col-md-4 col-xl"><div class="card shadow-sm h-100"><div class="card-body">
<div class="small text-body-secondary text-uppercase">${label}</div>
<div class="fs-4 fw-semibold" id="${id}">${value}</div>${note ? html`<div class="small text-body-secondary">${note}</div>` : null}</div></div></div>`;
  return adminLayout(
    model,
    "Programme analytics",
    "stats",
    html`<h1 class="h3 mb-3">Programme analytics</h1>
${model.error ? html`<div class="alert alert-danger" role="alert">${model.error}</div>` : null}
<form method="get" action="/admin/stats/" class="row g-2 align-items-end mb-2">
  <div class="col-auto">
    <span class="form-label d-block">Last</span>
    <div class="btn-group" role="group" aria-label="Preset periods">
      ${PERIOD_PRESETS.map(
        (days) =>
          html`<a class="btn btn-sm ${period.presetDays === days ? "btn-primary" : "btn-outline-primary"}" href="/admin/stats/?days=${days}"${period.presetDays === days ? html` aria-current="true"` : null}>${days} days</a>`,
      )}
    </div>
  </div>
  <div class="col-auto"><label for="from" class="form-label">From</label><input type="date" class="form-control form-control-sm" id="from" name="from" value="${period.from}" required></div>
  <div class="col-auto"><label for="to" class="form-label">To</label><input type="date" class="form-control form-control-sm" id="to" name="to" value="${period.to}" required></div>
  <div class="col-auto"><button type="submit" class="btn btn-sm btn-outline-primary">Show</button></div>
</form>
<p class="small text-body-secondary">${period.from} to ${period.to} (${stats.days.length} days, UTC).</p>

<div class="row g-3 mb-4">
  ${card("Sign-ups", totals.signups.toLocaleString("en-US"), "total-signups")}
  ${card("Through a link", percent(stats.referredShare), "referred-share", `${totals.referredSignups.toLocaleString("en-US")} of ${totals.signups.toLocaleString("en-US")}`)}
  ${card("Rewards paid", formatDollars(totals.rewardsPaidCents), "rewards-paid", `staff adjustments: ${signedDollars(totals.adjustmentsNetCents)}`)}
  ${card(
    "Link conversion",
    percent(stats.conversion),
    "link-conversion",
    `${totals.referredSignups.toLocaleString("en-US")} sign-ups ÷ ${totals.linkOpens.toLocaleString("en-US")} link opens`,
  )}
  ${card(
    "K-factor",
    formatKFactor(stats.kFactor),
    "k-factor",
    stats.kFactor === null
      ? "nobody existed at the start"
      : `${totals.referredSignups.toLocaleString("en-US")} ÷ ${totals.usersAtStart.toLocaleString("en-US")}`,
  )}
</div>

<div class="card shadow-sm mb-4"><div class="card-body">
  <h2 class="h5">The viral coefficient (K-factor)</h2>
  <p class="mb-2">K = <strong>referred sign-ups in the period</strong> ÷ <strong>users who existed at its start</strong>${
    stats.kFactor === null
      ? html`. Nobody existed at the start of this period, so K has no value for it: choose a later start.`
      : html` = ${totals.referredSignups.toLocaleString("en-US")} ÷ ${totals.usersAtStart.toLocaleString("en-US")} = <strong>${formatKFactor(stats.kFactor)}</strong>.`
  }
  It says how many new users each existing user brought in during the period: at 1 or more the programme grows by itself; below 1 it needs other sources of sign-ups.</p>
  <p class="small text-body-secondary mb-0">Caveat: it counts only sign-ups through a link, not invitations sent — we do not see links shared that nobody followed — so it cannot be split into invitations per user × conversion rate. It has no value when nobody existed at the start of the period.</p>
</div></div>

<section class="mb-4" aria-labelledby="signups-heading">
  <h2 class="h5" id="signups-heading">Sign-ups per day</h2>
  <div class="row g-3">
    <div class="col-12 col-lg-8">${barChart({
      id: "signups-chart",
      title: `Sign-ups per day, ${period.from} to ${period.to}`,
      labels,
      series: [
        {
          name: "through a link",
          colorClass: "text-primary",
          values: stats.days.map((d) => d.referredSignups),
        },
        {
          name: "direct",
          colorClass: "text-info",
          values: stats.days.map((d) => d.signups - d.referredSignups),
        },
      ],
      format: countAxis,
      integer: true,
    })}</div>
    <div class="col-12 col-lg-4"><div class="admin-figures overflow-auto" tabindex="0" role="region" aria-label="Sign-ups per day, as numbers">
      <table class="table table-sm" id="signups-table"><caption class="visually-hidden">Sign-ups per day</caption>
      <thead><tr><th scope="col">Day</th><th scope="col" class="text-end">Sign-ups</th><th scope="col" class="text-end">Through a link</th></tr></thead>
      <tbody>${stats.days.map((d) => html`<tr><td>${shortDay(d.day)}</td><td class="text-end">${d.signups}</td><td class="text-end">${d.referredSignups}</td></tr>`)}</tbody>
      <tfoot><tr><th scope="row">Total</th><th class="text-end">${totals.signups}</th><th class="text-end">${totals.referredSignups}</th></tr></tfoot></table>
    </div></div>
  </div>
</section>

<section class="mb-4" aria-labelledby="opens-heading">
  <h2 class="h5" id="opens-heading">Link opens and conversion per day</h2>
  <p class="small text-body-secondary">A link open is a visitor opening someone's referral link, counted once per
  browser per link per day (link-preview bots are not counted); conversion is that day's sign-ups through a link ÷ its
  opens. It can pass 100%: a program may sign up through a link without opening it, and a person may open a link one
  day and join the next. Opens reach these figures within seconds.</p>
  <div class="row g-3">
    <div class="col-12 col-lg-8">${barChart({
      id: "opens-chart",
      title: `Referral link opens per day, ${period.from} to ${period.to}`,
      labels,
      series: [
        { name: "link opens", colorClass: "text-secondary", values: stats.days.map((d) => d.linkOpens) },
      ],
      format: countAxis,
      integer: true,
    })}</div>
    <div class="col-12 col-lg-4"><div class="admin-figures overflow-auto" tabindex="0" role="region" aria-label="Link opens and conversion per day, as numbers">
      <table class="table table-sm" id="opens-table"><caption class="visually-hidden">Link opens, sign-ups through a link and conversion per day</caption>
      <thead><tr><th scope="col">Day</th><th scope="col" class="text-end">Opens</th><th scope="col" class="text-end">Sign-ups</th><th scope="col" class="text-end">Conversion</th></tr></thead>
      <tbody>${stats.days.map((d) => html`<tr><td>${shortDay(d.day)}</td><td class="text-end">${d.linkOpens}</td><td class="text-end">${d.referredSignups}</td><td class="text-end">${percent(d.conversion)}</td></tr>`)}</tbody>
      <tfoot><tr><th scope="row">Total</th><th class="text-end">${totals.linkOpens}</th><th class="text-end">${totals.referredSignups}</th><th class="text-end">${percent(stats.conversion)}</th></tr></tfoot></table>
    </div></div>
  </div>
</section>

<section class="mb-4" aria-labelledby="rewards-heading">
  <h2 class="h5" id="rewards-heading">Rewards paid per day</h2>
  <div class="row g-3">
    <div class="col-12 col-lg-8">${barChart({
      id: "rewards-chart",
      title: `Rewards paid per day in dollars, ${period.from} to ${period.to}`,
      labels,
      series: [
        {
          name: "sign-up bonuses",
          colorClass: "text-success",
          values: stats.days.map((d) => d.inviteeBonusCents),
        },
        {
          name: "referral rewards",
          colorClass: "text-warning",
          values: stats.days.map((d) => d.inviterRewardCents),
        },
      ],
      format: compactDollars,
    })}</div>
    <div class="col-12 col-lg-4"><div class="admin-figures overflow-auto" tabindex="0" role="region" aria-label="Rewards paid per day, as numbers">
      <table class="table table-sm" id="rewards-table"><caption class="visually-hidden">Rewards paid per day</caption>
      <thead><tr><th scope="col">Day</th><th scope="col" class="text-end">Bonuses</th><th scope="col" class="text-end">Rewards</th><th scope="col" class="text-end">Total</th></tr></thead>
      <tbody>${stats.days.map((d) => html`<tr><td>${shortDay(d.day)}</td><td class="text-end">${formatDollars(d.inviteeBonusCents)}</td><td class="text-end">${formatDollars(d.inviterRewardCents)}</td><td class="text-end">${formatDollars(d.inviteeBonusCents + d.inviterRewardCents)}</td></tr>`)}</tbody>
      <tfoot><tr><th scope="row">Total</th><th></th><th></th><th class="text-end">${formatDollars(totals.rewardsPaidCents)}</th></tr></tfoot></table>
    </div></div>
  </div>
</section>

<section class="mb-4" aria-labelledby="referrals-heading">
  <h2 class="h5" id="referrals-heading">Referrals by the day they were made</h2>
  <p class="small text-body-secondary">What became of each day's sign-ups through a link: held for review, approved, or rejected, with their welcome bonuses (pending, paid, or voided).${
    totals.heldReferrals > 0 ? html` <a href="/admin/review/">Review the held ones</a>.` : null
  }</p>
  <div class="row g-3">
    <div class="col-12 col-lg-8">${barChart({
      id: "referrals-chart",
      title: `Referrals per day by what became of them, ${period.from} to ${period.to}`,
      labels,
      series: [
        { name: "approved", colorClass: "text-success", values: stats.days.map((d) => d.approvedReferrals) },
        { name: "held", colorClass: "text-warning", values: stats.days.map((d) => d.heldReferrals) },
        { name: "rejected", colorClass: "text-danger", values: stats.days.map((d) => d.rejectedReferrals) },
      ],
      format: countAxis,
      integer: true,
    })}</div>
    <div class="col-12 col-lg-4"><div class="admin-figures overflow-auto" tabindex="0" role="region" aria-label="Referrals per day, as numbers">
      <table class="table table-sm" id="referrals-table"><caption class="visually-hidden">Referrals per day: how many are held, approved and rejected, and their welcome bonuses</caption>
      <thead><tr><th scope="col">Day</th><th scope="col" class="text-end">Held <span class="fw-normal text-body-secondary d-block small">pending</span></th><th scope="col" class="text-end">Approved <span class="fw-normal text-body-secondary d-block small">paid</span></th><th scope="col" class="text-end">Rejected <span class="fw-normal text-body-secondary d-block small">voided</span></th></tr></thead>
      <tbody>${stats.days.map(
        (d) =>
          html`<tr><td class="text-nowrap">${shortDay(d.day)}</td>${referralCell(d.heldReferrals, d.heldCents)}${referralCell(d.approvedReferrals, d.approvedCents)}${referralCell(d.rejectedReferrals, d.rejectedCents)}</tr>`,
      )}</tbody>
      <tfoot><tr><th scope="row">Total</th>${referralCell(totals.heldReferrals, totals.heldCents, "held")}${referralCell(totals.approvedReferrals, totals.approvedCents, "approved")}${referralCell(totals.rejectedReferrals, totals.rejectedCents, "rejected")}</tr></tfoot></table>
    </div></div>
  </div>
</section>

<section class="mb-4" aria-labelledby="top-heading">
  <h2 class="h5" id="top-heading">Top referrers in the period</h2>
  ${
    stats.topReferrers.length === 0
      ? html`<p class="text-body-secondary">Nobody signed up through a link in this period.</p>`
      : html`<div class="row g-3">
    <div class="col-12 col-lg-6">${horizontalBarChart({
      id: "top-chart",
      title: "Sign-ups through each top referrer's link in the period",
      bars: stats.topReferrers.map((r) => ({ label: r.username, value: r.referredInPeriod })),
      colorClass: "text-primary",
      format: (n) => n.toLocaleString("en-US"),
    })}</div>
    <div class="col-12 col-lg-6 table-responsive"><table class="table table-sm" id="top-table"><caption class="visually-hidden">Top referrers</caption>
      <thead><tr><th scope="col">Referrer</th><th scope="col" class="text-end">In period</th><th scope="col" class="text-end">Link opens</th><th scope="col" class="text-end">Conversion</th><th scope="col" class="text-end">All time</th></tr></thead>
      <tbody>${stats.topReferrers.map((r) => html`<tr><td>${userLink(r.id, r.username)}${r.isActive ? null : html` <span class="badge text-bg-secondary">deactivated</span>`}</td><td class="text-end">${r.referredInPeriod}</td><td class="text-end">${r.linkOpensInPeriod}</td><td class="text-end">${percent(r.conversion)}</td><td class="text-end">${r.referredCount}</td></tr>`)}</tbody>
    </table></div>
  </div>`
  }
</section>`,
  );
}
