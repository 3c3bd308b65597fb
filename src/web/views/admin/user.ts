// /admin/users/:id/: one user, with their ledger, invitees, sessions and audit entries, and the forms
// that adjust their balance, end one of their sessions, give them a new referral link or deactivate
// them (the last two after a confirmation page of their own).
import { ADJUSTMENT_NOTE_MAX_LENGTH, REASON_MAX_LENGTH } from "../../../admin/adjustments.js";
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
  note?: string;
  errors?: FieldErrors;
}

export const notices: Record<string, string> = {
  adjusted: "The adjustment was recorded.",
  deactivated: "The user was deactivated and their sessions ended.",
  reactivated: "The user was reactivated.",
  unchanged: "Nothing to change.",
  "session-ended": "The session was ended: that device is logged out.",
  "session-gone": "That session had already ended.",
  "link-regenerated": "The user has a new referral link: the old one no longer works.",
  "verification-resent": "A new confirmation link was sent to the address waiting for confirmation.",
};

export const resendThrottled =
  "Too many confirmation links went to this address or this account lately. Try again later.";

/** The user's addresses: the verified one, the one waiting (with its link's times), and resending. */
function emailBox(detail: UserDetail, csrfToken: string, errors: string[] | undefined): SafeHtml {
  const { user, pendingLink } = detail;
  return html`<div class="mt-3 pt-3 border-top" id="email-box">
  <h2 class="h6 fw-semibold mb-1">Email address</h2>
  <p class="mb-1 text-break" id="email-verified">${
    user.email
      ? html`${user.email} <span class="badge text-bg-success">verified</span>`
      : html`<span class="text-body-secondary">No verified address.</span>`
  }</p>
  ${
    user.pendingEmail
      ? html`<p class="mb-1 text-break" id="email-pending">Waiting for confirmation: ${user.pendingEmail}${
          pendingLink
            ? html`<span class="d-block small text-body-secondary">link sent ${utcMinute(pendingLink.sentAt)}, ${
                pendingLink.expiresAt.getTime() > Date.now()
                  ? `works until ${utcMinute(pendingLink.expiresAt)}`
                  : "expired"
              }</span>`
            : null
        }</p>
  ${formErrors(errors)}
  <form method="post" action="/admin/users/${user.id}/email/resend/">
    ${csrfField(csrfToken)}
    <button type="submit" class="btn btn-outline-secondary btn-sm" id="resend-verification">Send the confirmation link again</button>
  </form>
  <div class="form-text">A new link replaces the one sent before.</div>`
      : null
  }
</div>`;
}

function fieldErrorsFor(errors: FieldErrors | undefined, name: string): SafeHtml | null {
  const list = errors?.[name];
  if (!list?.length) return null;
  return html`<div class="invalid-feedback d-block" id="adjust-${name}-errors">${list.map((m) => html`<div>${m}</div>`)}</div>`;
}

export function userPage(
  model: AdminFrame & {
    detail: UserDetail;
    audit: AuditEntry[];
    /** The user's referral link, as they would share it. */
    referralLink: string;
    notice?: string | null;
    /** The ledger's next (older) page, if there is one. */
    olderLedger: string | null;
    firstLedgerPage: boolean;
    adjust?: AdjustFormState;
    statusErrors?: string[];
    emailErrors?: string[];
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
${
  user.deletedAt
    ? html`<div class="alert alert-dark" role="status" id="deleted-notice">This account was <strong>deleted</strong> by its owner
  on ${utcMinute(user.deletedAt)}. Its name, addresses, sessions and devices are erased; its ledger keeps its amounts.</div>`
    : null
}
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
        <dt class="col-5">Status</dt><dd class="col-7" id="user-status">${
          user.deletedAt ? "deleted" : user.isActive ? "active" : "deactivated"
        }${user.isStaff ? ", staff" : ""}</dd>
      </dl>
      ${
        user.deletedAt
          ? null
          : user.isActive
            ? html`<div class="mt-3">
        <a class="btn btn-outline-danger btn-sm" href="/admin/users/${user.id}/deactivate/" id="deactivate-link">Deactivate…</a>
        <div class="form-text">They can no longer log in, their link stops paying rewards, and their sessions end. You confirm on the next page.</div>
      </div>`
            : html`<form method="post" action="/admin/users/${user.id}/reactivate/" class="mt-3">
        ${csrfField(model.csrfToken)}
        <button type="submit" class="btn btn-outline-success btn-sm">Reactivate</button>
      </form>`
      }
      ${
        user.deletedAt
          ? null
          : html`<div class="mt-3 pt-3 border-top" id="referral-link-box">
        <label for="referral-link" class="form-label fw-semibold mb-1">Referral link</label>
        <input id="referral-link" class="form-control form-control-sm font-monospace" readonly value="${model.referralLink}">
        <a class="btn btn-outline-secondary btn-sm mt-2" href="/admin/users/${user.id}/referral-link/" id="regenerate-link">New link…</a>
        <div class="form-text">A new link replaces this one: the old link stops working at once.</div>
      </div>
      ${emailBox(model.detail, model.csrfToken, model.emailErrors)}`
      }
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
            <label for="adjust-reason" class="form-label">Reason <span class="text-body-secondary">(the user sees it in their credit history)</span></label>
            <textarea class="form-control${invalid("reason")}" id="adjust-reason" name="reason" rows="2" maxlength="${REASON_MAX_LENGTH}" required${described("reason")}>${adjust.reason ?? ""}</textarea>
            ${fieldErrorsFor(errors, "reason")}
          </div>
          <div class="col-12">
            <label for="adjust-note" class="form-label">Staff note <span class="text-body-secondary">(optional; only staff see it)</span></label>
            <textarea class="form-control${invalid("note")}" id="adjust-note" name="note" rows="2" maxlength="${ADJUSTMENT_NOTE_MAX_LENGTH}"${described("note")}>${adjust.note ?? ""}</textarea>
            ${fieldErrorsFor(errors, "note")}
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
    : html`<div class="table-responsive"><table class="table table-sm align-middle stack-table" id="ledger">
<thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col" class="text-end">Amount</th><th scope="col">Why</th><th scope="col">By</th></tr></thead>
<tbody>${detail.ledger.items.map(
        (l) => html`<tr>
<td class="text-nowrap">${utcMinute(l.createdAt)}</td>
<td data-label="Kind">${ledgerKindLabel(l.kind)}</td>
<td data-label="Amount" class="text-end font-monospace ${l.status !== "posted" ? "text-body-secondary" : l.amountCents < 0 ? "text-danger" : "text-success"}">${
          l.status === "void" ? html`<s>${signedDollars(l.amountCents)}</s>` : signedDollars(l.amountCents)
        }${l.status === "posted" ? null : html`<div class="small">${l.status === "pending" ? "pending" : "void"}</div>`}${
          l.cappedCents
            ? html`<div class="small">${formatDollars(l.cappedCents)} over the monthly limit</div>`
            : null
        }</td>
<td data-label="Why" class="text-break">${
          l.kind === "adjustment" || l.kind === "carried_over"
            ? l.reason
            : l.kind === "inviter_reward"
              ? html`${rewardReason(l.referralCount)} (${userLink(l.signupUserId, l.signupUsername)})`
              : html`joined through a link`
        }${l.staffNote ? html`<div class="small text-body-secondary staff-note"><span class="fw-semibold">Staff note:</span> ${l.staffNote}</div>` : null}</td>
<td data-label="By">${l.kind === "adjustment" ? userLink(l.createdById, l.createdByUsername) : l.kind === "carried_over" ? "import" : "programme"}</td></tr>`,
      )}</tbody></table></div>`
}
${pageLinks({
  first: model.firstLedgerPage ? null : { href: `/admin/users/${user.id}/`, label: "Newest entries" },
  next: { href: model.olderLedger, label: "Older entries" },
})}

<div class="row g-4 mt-1">
  <div class="col-12 col-lg-5">
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
  <div class="col-12 col-lg-7">
    <h2 class="h5" id="sessions-heading">Sessions (${detail.sessions.length})</h2>
    ${
      detail.sessions.length === 0
        ? html`<p class="text-body-secondary">No open sessions.</p>`
        : html`<div class="table-responsive"><table class="table table-sm align-middle stack-table" id="sessions">
<thead><tr><th scope="col">Started</th><th scope="col">Last seen</th><th scope="col">From</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
<tbody>${detail.sessions.map(
            (
              s,
            ) => html`<tr id="session-${s.id}"><td class="text-nowrap"><span class="d-md-none">Started </span>${utcMinute(s.createdAt)}</td><td data-label="Last seen" class="text-nowrap">${utcMinute(s.lastSeenAt)}</td>
<td data-label="From" class="small">${s.clientAddress ?? "—"}<div class="text-body-secondary text-break">${s.userAgent ?? ""}</div></td>
<td class="text-end"><form method="post" action="/admin/users/${user.id}/sessions/end/">
  ${csrfField(model.csrfToken)}<input type="hidden" name="session" value="${s.id}">
  <button type="submit" class="btn btn-outline-danger btn-sm text-nowrap">End session<span class="visually-hidden"> started ${utcMinute(s.createdAt)}</span></button>
</form></td></tr>`,
          )}</tbody></table></div>
        <p class="small text-body-secondary">Ending a session logs that device out; the user can log in again.</p>`
    }
  </div>
</div>

<h2 class="h5 mt-4">Audit log for ${user.username}</h2>
${auditTable(model.audit, false)}`,
  );
}
