// The staff pages under /admin/: home (audit log), users, one user, and programme analytics.
import type { SessionUser } from "../../accounts/sessions.js";
import { REASON_MAX_LENGTH } from "../../admin/adjustments.js";
import type { AuditEntry } from "../../admin/audit.js";
import type { UserDetail, UserListQuery, UserListRow, UserSort } from "../../admin/directory.js";
import { PERIOD_PRESETS, type ProgrammeStats } from "../../admin/stats.js";
import type { FieldErrors } from "../../errors.js";
import {
  compactDollars,
  formatDollars,
  ledgerKindLabel,
  rewardReason,
  shortDay,
  signedDollars,
  utcMinute,
} from "../../format.js";
import { html, type SafeHtml } from "../html.js";
import { csrfField, formErrors, layout } from "./layout.js";
import { barChart, horizontalBarChart } from "./svg-chart.js";

type Section = "home" | "users" | "stats";

function adminLayout(
  staff: SessionUser,
  csrfToken: string,
  title: string,
  section: Section,
  body: SafeHtml,
): SafeHtml {
  const tab = (name: Section, href: string, label: string) =>
    html`<li class="nav-item"><a class="nav-link${section === name ? " active" : ""}" href="${href}"${section === name ? html` aria-current="page"` : null}>${label}</a></li>`;
  return layout(
    { title: `${title} · Admin`, csrfToken, username: staff.username, isStaff: true },
    html`<div class="admin-area">
<ul class="nav nav-tabs mb-4" aria-label="Admin sections">
  ${tab("home", "/admin/", "Audit log")}
  ${tab("users", "/admin/users/", "Users")}
  ${tab("stats", "/admin/stats/", "Programme analytics")}
  <li class="nav-item dropdown-center ms-auto d-flex align-items-center gap-2 small">
    <span class="text-body-secondary">Export CSV:</span>
    <a href="/admin/export/users.csv" download>users</a>
    <a href="/admin/export/ledger.csv" download>ledger</a>
  </li>
</ul>
${body}
</div>`,
  );
}

function userLink(id: number | null, username: string | null): SafeHtml | string {
  if (id === null || username === null) return "—";
  return html`<a href="/admin/users/${id}/">${username}</a>`;
}

const actionLabels: Record<string, string> = {
  balance_adjusted: "Balance adjusted",
  user_deactivated: "User deactivated",
  user_reactivated: "User reactivated",
  staff_created: "Staff user created",
  staff_granted: "Made staff",
  users_exported: "Users exported",
  ledger_exported: "Ledger exported",
};

function auditDetails(entry: AuditEntry): SafeHtml | string {
  const d = entry.details;
  if (entry.action === "balance_adjusted" && typeof d.amount_cents === "number") {
    return html`<span class="${d.amount_cents >= 0 ? "text-success" : "text-danger"} fw-semibold">${signedDollars(d.amount_cents)}</span>
      (balance after: ${formatDollars(Number(d.balance_after_cents ?? 0))}) — ${String(d.reason ?? "")}`;
  }
  if (entry.action === "user_deactivated") return `${Number(d.sessions_ended ?? 0)} session(s) ended`;
  if (entry.action === "staff_created" || entry.action === "staff_granted")
    return `via ${String(d.via ?? "")}`;
  return "";
}

function auditTable(entries: AuditEntry[], showTarget: boolean): SafeHtml {
  if (entries.length === 0) return html`<p class="text-body-secondary">Nothing recorded yet.</p>`;
  return html`<div class="table-responsive"><table class="table table-sm align-middle">
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th>${showTarget ? html`<th scope="col">User</th>` : null}<th scope="col">Details</th></tr></thead>
<tbody>${entries.map(
    (e) => html`<tr>
<td class="text-nowrap">${utcMinute(e.createdAt)}</td>
<td>${e.actorId === null ? html`<span class="text-body-secondary">command line</span>` : userLink(e.actorId, e.actorUsername)}</td>
<td>${actionLabels[e.action] ?? e.action}</td>
${showTarget ? html`<td>${userLink(e.targetUserId, e.targetUsername)}</td>` : null}
<td>${auditDetails(e)}</td></tr>`,
  )}</tbody></table></div>`;
}

export function adminHomePage(model: {
  staff: SessionUser;
  csrfToken: string;
  audit: AuditEntry[];
  olderBefore: number | null;
}): SafeHtml {
  return adminLayout(
    model.staff,
    model.csrfToken,
    "Audit log",
    "home",
    html`<h1 class="h3 mb-3">Audit log</h1>
<p class="text-body-secondary">Every staff action, newest first: who did what, to whom, and when.</p>
${auditTable(model.audit, true)}
${model.olderBefore !== null ? html`<a class="btn btn-outline-secondary btn-sm" href="/admin/?before=${model.olderBefore}">Older entries</a>` : null}`,
  );
}

const sortLabels: Record<UserSort, string> = {
  username: "Username",
  joined: "Joined",
  balance: "Balance",
  referred: "Referred",
};

function listUrl(query: UserListQuery, changes: Partial<UserListQuery>): string {
  const q = { ...query, ...changes };
  const params = new URLSearchParams();
  if (q.search) params.set("q", q.search);
  params.set("sort", q.sort);
  params.set("dir", q.direction);
  if (q.page > 1) params.set("page", String(q.page));
  return `/admin/users/?${params}`;
}

function sortHeader(query: UserListQuery, sort: UserSort, numeric: boolean): SafeHtml {
  const active = query.sort === sort;
  const nextDirection = active
    ? query.direction === "asc"
      ? "desc"
      : "asc"
    : sort === "username"
      ? "asc"
      : "desc";
  const arrow = active ? (query.direction === "asc" ? " ▲" : " ▼") : "";
  const ariaSort = active ? (query.direction === "asc" ? "ascending" : "descending") : null;
  return html`<th scope="col"${numeric ? html` class="text-end"` : null}${ariaSort ? html` aria-sort="${ariaSort}"` : null}><a class="link-body-emphasis text-decoration-none" href="${listUrl(query, { sort, direction: nextDirection, page: 1 })}">${sortLabels[sort]}${arrow}</a></th>`;
}

function statusBadges(user: { isActive: boolean; isStaff: boolean }): SafeHtml {
  return html`${user.isStaff ? html` <span class="badge text-bg-info">staff</span>` : null}${user.isActive ? null : html` <span class="badge text-bg-secondary">deactivated</span>`}`;
}

export function usersPage(model: {
  staff: SessionUser;
  csrfToken: string;
  query: UserListQuery;
  rows: UserListRow[];
  hasNext: boolean;
}): SafeHtml {
  const { query } = model;
  return adminLayout(
    model.staff,
    model.csrfToken,
    "Users",
    "users",
    html`<h1 class="h3 mb-3">Users</h1>
<form method="get" action="/admin/users/" class="row g-2 align-items-end mb-3" role="search">
  <div class="col-12 col-sm-6 col-md-4">
    <label for="q" class="form-label">Username starts with</label>
    <input type="search" class="form-control" id="q" name="q" value="${query.search}" maxlength="150" autocomplete="off">
  </div>
  <input type="hidden" name="sort" value="${query.sort}">
  <input type="hidden" name="dir" value="${query.direction}">
  <div class="col-auto"><button type="submit" class="btn btn-primary">Search</button></div>
  ${query.search ? html`<div class="col-auto"><a class="btn btn-outline-secondary" href="/admin/users/">Clear</a></div>` : null}
</form>
${
  model.rows.length === 0
    ? html`<p class="text-body-secondary">No users${query.search ? html` whose username starts with “${query.search}”` : null}.</p>`
    : html`<div class="table-responsive"><table class="table table-hover align-middle" id="users">
<thead><tr>${sortHeader(query, "username", false)}${sortHeader(query, "balance", true)}${sortHeader(query, "referred", true)}${sortHeader(query, "joined", false)}<th scope="col">Invited by</th></tr></thead>
<tbody>${model.rows.map(
        (u) => html`<tr>
<td><a href="/admin/users/${u.id}/">${u.username}</a>${statusBadges(u)}</td>
<td class="text-end font-monospace">${formatDollars(u.balanceCents)}</td>
<td class="text-end">${u.referredCount}</td>
<td class="text-nowrap">${utcMinute(u.createdAt)}</td>
<td>${userLink(u.inviterId, u.inviterUsername)}</td></tr>`,
      )}</tbody></table></div>`
}
<nav aria-label="Pages" class="d-flex gap-2">
  ${query.page > 1 ? html`<a class="btn btn-outline-secondary btn-sm" href="${listUrl(query, { page: query.page - 1 })}">Previous</a>` : null}
  <span class="align-self-center small text-body-secondary">Page ${query.page}</span>
  ${model.hasNext ? html`<a class="btn btn-outline-secondary btn-sm" href="${listUrl(query, { page: query.page + 1 })}">Next</a>` : null}
</nav>`,
  );
}

export interface AdjustFormState {
  direction?: string;
  amount?: string;
  reason?: string;
  errors?: FieldErrors;
}

export const notices: Record<string, string> = {
  adjusted: "The adjustment was recorded.",
  deactivated: "The user was deactivated and their sessions ended.",
  reactivated: "The user was reactivated.",
  unchanged: "Nothing to change.",
};

function fieldErrorsFor(errors: FieldErrors | undefined, name: string): SafeHtml | null {
  const list = errors?.[name];
  if (!list?.length) return null;
  return html`<div class="invalid-feedback d-block" id="adjust-${name}-errors">${list.map((m) => html`<div>${m}</div>`)}</div>`;
}

export function userPage(model: {
  staff: SessionUser;
  csrfToken: string;
  detail: UserDetail;
  audit: AuditEntry[];
  notice?: string | null;
  adjust?: AdjustFormState;
  statusErrors?: string[];
}): SafeHtml {
  const { user } = model.detail;
  const adjust = model.adjust ?? {};
  const errors = adjust.errors ?? {};
  const invalid = (name: string) => (errors[name]?.length ? " is-invalid" : "");
  const described = (name: string) =>
    errors[name]?.length ? html` aria-invalid="true" aria-describedby="adjust-${name}-errors"` : null;
  const detail = model.detail;
  return adminLayout(
    model.staff,
    model.csrfToken,
    user.username,
    "users",
    html`<nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/admin/users/">Users</a></li><li class="breadcrumb-item active" aria-current="page">${user.username}</li></ol></nav>
<h1 class="h3 mb-3">${user.username}${statusBadges(user)}</h1>
${model.notice ? html`<div class="alert alert-success" role="status">${model.notice}</div>` : null}
${formErrors(model.statusErrors)}
<div class="row g-4 mb-4">
  <div class="col-12 col-lg-5">
    <div class="card shadow-sm h-100"><div class="card-body">
      <dl class="row mb-0">
        <dt class="col-5">Balance</dt><dd class="col-7 fs-5 fw-semibold" id="balance">${formatDollars(user.balanceCents)}</dd>
        <dt class="col-5">Joined</dt><dd class="col-7">${utcMinute(user.createdAt)}</dd>
        <dt class="col-5">Invited by</dt><dd class="col-7">${userLink(user.inviterId, user.inviterUsername)}</dd>
        <dt class="col-5">Referred</dt><dd class="col-7">${user.referredCount}</dd>
        <dt class="col-5">Status</dt><dd class="col-7">${user.isActive ? "active" : "deactivated"}${user.isStaff ? ", staff" : ""}</dd>
      </dl>
      <form method="post" action="/admin/users/${user.id}/${user.isActive ? "deactivate" : "reactivate"}/" class="mt-3">
        ${csrfField(model.csrfToken)}
        ${
          user.isActive
            ? html`<button type="submit" class="btn btn-outline-danger btn-sm">Deactivate</button>
        <div class="form-text">They can no longer log in, their link stops paying rewards, and their sessions end.</div>`
            : html`<button type="submit" class="btn btn-outline-success btn-sm">Reactivate</button>`
        }
      </form>
    </div></div>
  </div>
  <div class="col-12 col-lg-7">
    <div class="card shadow-sm h-100"><div class="card-body">
      <h2 class="h5">Adjust the balance</h2>
      ${formErrors(errors.__all__)}
      <form method="post" action="/admin/users/${user.id}/adjust/" id="adjust-form" novalidate>
        ${csrfField(model.csrfToken)}
        <div class="row g-2">
          <div class="col-12 col-sm-5">
            <label for="adjust-direction" class="form-label">Change</label>
            <select class="form-select${invalid("direction")}" id="adjust-direction" name="direction"${described("direction")}>
              <option value="add"${adjust.direction !== "remove" ? html` selected` : null}>Add credit</option>
              <option value="remove"${adjust.direction === "remove" ? html` selected` : null}>Remove credit</option>
            </select>
            ${fieldErrorsFor(errors, "direction")}
          </div>
          <div class="col-12 col-sm-7">
            <label for="adjust-amount" class="form-label">Amount in dollars</label>
            <div class="input-group has-validation">
              <span class="input-group-text">$</span>
              <input type="text" inputmode="decimal" class="form-control${invalid("amount")}" id="adjust-amount" name="amount" value="${adjust.amount ?? ""}" placeholder="10.00" required${described("amount")}>
              ${fieldErrorsFor(errors, "amount")}
            </div>
          </div>
          <div class="col-12">
            <label for="adjust-reason" class="form-label">Reason (kept in the ledger and the audit log)</label>
            <textarea class="form-control${invalid("reason")}" id="adjust-reason" name="reason" rows="2" maxlength="${REASON_MAX_LENGTH}" required${described("reason")}>${adjust.reason ?? ""}</textarea>
            ${fieldErrorsFor(errors, "reason")}
          </div>
        </div>
        <button type="submit" class="btn btn-primary mt-3">Record adjustment</button>
      </form>
    </div></div>
  </div>
</div>

<h2 class="h5">Ledger</h2>
${
  detail.ledger.length === 0
    ? html`<p class="text-body-secondary">No entries yet.</p>`
    : html`<div class="table-responsive"><table class="table table-sm align-middle" id="ledger">
<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col" class="text-end">Amount</th><th scope="col">Why</th><th scope="col">By</th></tr></thead>
<tbody>${detail.ledger.map(
        (l) => html`<tr>
<td class="text-nowrap">${utcMinute(l.createdAt)}</td>
<td>${ledgerKindLabel(l.kind)}</td>
<td class="text-end font-monospace ${l.amountCents < 0 ? "text-danger" : "text-success"}">${signedDollars(l.amountCents)}</td>
<td>${
          l.kind === "adjustment"
            ? l.reason
            : l.kind === "inviter_reward"
              ? html`${rewardReason(l.referralCount)} (${userLink(l.signupUserId, l.signupUsername)})`
              : html`joined through a link`
        }</td>
<td>${l.kind === "adjustment" ? userLink(l.createdById, l.createdByUsername) : "programme"}</td></tr>`,
      )}</tbody></table></div>`
}
${detail.olderLedgerBefore !== null ? html`<a class="btn btn-outline-secondary btn-sm mb-4" href="/admin/users/${user.id}/?ledger_before=${detail.olderLedgerBefore}">Older entries</a>` : null}

<div class="row g-4 mt-1">
  <div class="col-12 col-lg-6">
    <h2 class="h5">People they invited (${detail.inviteeCount})</h2>
    ${
      detail.invitees.length === 0
        ? html`<p class="text-body-secondary">Nobody yet.</p>`
        : html`<ul class="list-group mb-2" id="invitees">${detail.invitees.map(
            (i) =>
              html`<li class="list-group-item d-flex justify-content-between"><span>${userLink(i.id, i.username)}${i.isActive ? null : html` <span class="badge text-bg-secondary">deactivated</span>`}</span><span class="small text-body-secondary">${utcMinute(i.createdAt)}</span></li>`,
          )}</ul>
          ${detail.inviteeCount > detail.invitees.length ? html`<p class="small text-body-secondary">Showing the newest ${detail.invitees.length}.</p>` : null}`
    }
  </div>
  <div class="col-12 col-lg-6">
    <h2 class="h5">Sessions (${detail.sessions.length})</h2>
    ${
      detail.sessions.length === 0
        ? html`<p class="text-body-secondary">No open sessions.</p>`
        : html`<div class="table-responsive"><table class="table table-sm" id="sessions">
<thead><tr><th scope="col">Started</th><th scope="col">Last seen</th><th scope="col">From</th></tr></thead>
<tbody>${detail.sessions.map(
            (
              s,
            ) => html`<tr><td class="text-nowrap">${utcMinute(s.createdAt)}</td><td class="text-nowrap">${utcMinute(s.lastSeenAt)}</td>
<td class="small">${s.clientAddress ?? "—"}<div class="text-body-secondary text-break">${s.userAgent ?? ""}</div></td></tr>`,
          )}</tbody></table></div>`
    }
  </div>
</div>

<h2 class="h5 mt-4">Audit log for ${user.username}</h2>
${auditTable(model.audit, false)}`,
  );
}

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

export function statsPage(model: {
  staff: SessionUser;
  csrfToken: string;
  stats: ProgrammeStats;
  error?: string | null;
}): SafeHtml {
  const { stats } = model;
  const { period, totals } = stats;
  const labels = stats.days.map((d) => d.day);
  const card = (label: string, value: string, id: string, note?: string) =>
    html`<div class="col-6 col-md-4 col-xl"><div class="card shadow-sm h-100"><div class="card-body">
<div class="small text-body-secondary text-uppercase">${label}</div>
<div class="fs-4 fw-semibold" id="${id}">${value}</div>${note ? html`<div class="small text-body-secondary">${note}</div>` : null}</div></div></div>`;
  return adminLayout(
    model.staff,
    model.csrfToken,
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

<section class="mb-4" aria-labelledby="top-heading">
  <h2 class="h5" id="top-heading">Top referrers in the period</h2>
  ${
    stats.topReferrers.length === 0
      ? html`<p class="text-body-secondary">Nobody signed up through a link in this period.</p>`
      : html`<div class="row g-3">
    <div class="col-12 col-lg-8">${horizontalBarChart({
      id: "top-chart",
      title: "Sign-ups through each top referrer's link in the period",
      bars: stats.topReferrers.map((r) => ({ label: r.username, value: r.referredInPeriod })),
      colorClass: "text-primary",
      format: (n) => n.toLocaleString("en-US"),
    })}</div>
    <div class="col-12 col-lg-4"><table class="table table-sm" id="top-table"><caption class="visually-hidden">Top referrers</caption>
      <thead><tr><th scope="col">Referrer</th><th scope="col" class="text-end">In period</th><th scope="col" class="text-end">All time</th></tr></thead>
      <tbody>${stats.topReferrers.map((r) => html`<tr><td>${userLink(r.id, r.username)}${r.isActive ? null : html` <span class="badge text-bg-secondary">deactivated</span>`}</td><td class="text-end">${r.referredInPeriod}</td><td class="text-end">${r.referredCount}</td></tr>`)}</tbody>
    </table></div>
  </div>`
  }
</section>`,
  );
}
