// /admin/users/:id/: one user, with their ledger, invitees, sessions and audit entries, and the forms
// that adjust their balance or deactivate them.
import { REASON_MAX_LENGTH } from "../../../admin/adjustments.js";
import type { AuditEntry } from "../../../admin/audit.js";
import type { UserDetail } from "../../../admin/directory.js";
import type { FieldErrors } from "../../../errors.js";
import { formatDollars, ledgerKindLabel, rewardReason, signedDollars, utcMinute } from "../../../format.js";
import { html, type SafeHtml } from "../../html.js";
import { csrfField, formErrors, pageLinks } from "../layout.js";
import { auditTable } from "./audit-table.js";
import { type AdminFrame, adminLayout, statusBadges, userLink } from "./layout.js";

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

export function userPage(
  model: AdminFrame & {
    detail: UserDetail;
    audit: AuditEntry[];
    notice?: string | null;
    /** The ledger's next (older) page, if there is one. */
    olderLedger: string | null;
    firstLedgerPage: boolean;
    adjust?: AdjustFormState;
    statusErrors?: string[];
  },
): SafeHtml {
  const { user } = model.detail;
  const adjust = model.adjust ?? {};
  const errors = adjust.errors ?? {};
  const invalid = (name: string) => (errors[name]?.length ? " is-invalid" : "");
  const described = (name: string) =>
    errors[name]?.length ? html` aria-invalid="true" aria-describedby="adjust-${name}-errors"` : null;
  const detail = model.detail;
  return adminLayout(
    model,
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
        ${
          user.pendingCents > 0
            ? html`<dt class="col-5">Pending</dt><dd class="col-7" id="pending"><a href="/admin/review/">${formatDollars(user.pendingCents)}</a> held for review</dd>`
            : null
        }
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
  detail.ledger.items.length === 0
    ? html`<p class="text-body-secondary">No entries yet.</p>`
    : html`<div class="table-responsive"><table class="table table-sm align-middle" id="ledger">
<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col" class="text-end">Amount</th><th scope="col">Why</th><th scope="col">By</th></tr></thead>
<tbody>${detail.ledger.items.map(
        (l) => html`<tr>
<td class="text-nowrap">${utcMinute(l.createdAt)}</td>
<td>${ledgerKindLabel(l.kind)}</td>
<td class="text-end font-monospace ${l.status !== "posted" ? "text-body-secondary" : l.amountCents < 0 ? "text-danger" : "text-success"}">${
          l.status === "void" ? html`<s>${signedDollars(l.amountCents)}</s>` : signedDollars(l.amountCents)
        }${l.status === "posted" ? null : html`<div class="small">${l.status === "pending" ? "pending" : "void"}</div>`}${
          l.cappedCents
            ? html`<div class="small">${formatDollars(l.cappedCents)} over the monthly limit</div>`
            : null
        }</td>
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
${pageLinks({
  first: model.firstLedgerPage ? null : { href: `/admin/users/${user.id}/`, label: "Newest entries" },
  next: { href: model.olderLedger, label: "Older entries" },
})}

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
