// /admin/review/: the held referrals, newest first, each with why it is held and what its inviter's
// other referrals became, and one form that approves or rejects the ones ticked. Without any script:
// a checkbox per row (all named `ids`) and a button per decision.
import { DECISION_REASON_MAX_LENGTH, STAFF_NOTE_MAX_LENGTH } from "../../../admin/review-decisions.js";
import type { HeldReferral } from "../../../admin/review-queue.js";
import type { ReferralStatus } from "../../../db/schema.js";
import type { FieldErrors } from "../../../errors.js";
import { formatDollars, utcMinute } from "../../../format.js";
import { isSignal, signalWords } from "../../../referrals/integrity.js";
import { html, type SafeHtml } from "../../html.js";
import { csrfField, pageLinks } from "../layout.js";
import { type AdminFrame, adminLayout, userLink } from "./layout.js";

/** What was typed into the form, given back with its errors. */
export interface ReviewFormState {
  ids?: string[];
  reason?: string;
  note?: string;
  errors?: FieldErrors;
}

/** Why a referral is held, in staff's words: one line per signal, or the end of the hold for everyone. */
export function heldBecause(referral: Pick<HeldReferral, "signals" | "holdUntil">): string[] {
  if (referral.signals.length === 0) {
    return [
      referral.holdUntil === null
        ? "Held for everyone."
        : `Held for everyone until ${utcMinute(referral.holdUntil)}.`,
    ];
  }
  return referral.signals.map((name) => (isSignal(name) ? signalWords[name] : name));
}

const statusBadgeClass: Record<ReferralStatus, string> = {
  approved: "text-bg-success",
  held: "text-bg-warning",
  rejected: "text-bg-danger",
};

function statusBadge(status: ReferralStatus): SafeHtml {
  return html`<span class="badge ${statusBadgeClass[status] ?? "text-bg-secondary"}">${status}</span>`;
}

function inviterHistory(referral: HeldReferral): SafeHtml {
  const counts = referral.inviterReferrals;
  const total = counts.approved + counts.held + counts.rejected;
  if (total === 0) return html`<span class="text-body-secondary">None: their first.</span>`;
  return html`<div class="text-nowrap">${counts.approved} approved · ${counts.held} held · ${counts.rejected} rejected</div>
<ul class="list-unstyled small mb-0">${referral.inviterLatest.map(
    (other) => html`<li>${userLink(other.inviteeId, other.username)} ${statusBadge(other.status)}</li>`,
  )}</ul>`;
}

/** The form's fields as the error summary names them, each linked to where it is fixed. */
const fieldNames: Record<string, { label: string; href: string }> = {
  ids: { label: "Referrals", href: "#review" },
  action: { label: "Decision", href: "#approve-button" },
  reason: { label: "Reason", href: "#review-reason" },
  note: { label: "Staff note", href: "#review-note" },
};

function fieldErrorsFor(errors: FieldErrors, name: string): SafeHtml | null {
  const list = errors[name];
  if (!list?.length) return null;
  return html`<div class="invalid-feedback d-block" id="review-${name}-errors">${list.map((m) => html`<div>${m}</div>`)}</div>`;
}

export function reviewPage(
  model: AdminFrame & {
    referrals: HeldReferral[];
    /** The page's cursor, kept by the form so a refused decision shows the same page again. */
    cursor: string | null;
    nextPage: string | null;
    firstPage: boolean;
    notice?: string | null;
    form?: ReviewFormState;
  },
): SafeHtml {
  const form = model.form ?? {};
  const errors = form.errors ?? {};
  const ticked = new Set(form.ids ?? []);
  const invalid = (name: string) => (errors[name]?.length ? " is-invalid" : "");
  const described = (name: string, help?: string) => {
    const ids = [errors[name]?.length ? `review-${name}-errors` : null, help ?? null]
      .filter(Boolean)
      .join(" ");
    return html`${ids ? html` aria-describedby="${ids}"` : null}${errors[name]?.length ? html` aria-invalid="true"` : null}`;
  };
  const problems = Object.entries(errors).flatMap(([name, messages]) => {
    const field = fieldNames[name];
    return messages.map((message) =>
      field
        ? html`<div><a href="${field.href}" class="alert-link">${field.label}</a>: ${message}</div>`
        : html`<div>${message}</div>`,
    );
  });
  const rows = model.referrals;
  return adminLayout(
    model,
    "Review queue",
    "review",
    html`<h1 class="h3 mb-2">Review queue</h1>
<p class="text-body-secondary">Referrals held by a check, newest first. Approving one posts the invitee's pending bonus and counts it toward the inviter's next reward; rejecting it voids the bonus. Each referral is decided once.</p>
${model.notice ? html`<div class="alert alert-success" role="status" id="review-notice">${model.notice}</div>` : null}
${
  problems.length > 0
    ? html`<div class="alert alert-danger" role="alert" id="review-errors"><div class="fw-semibold">Nothing was decided.</div>${problems}</div>`
    : null
}
${
  rows.length === 0
    ? html`<div class="card shadow-sm mb-4" id="review-empty"><div class="card-body text-center py-5">
  <h2 class="h5">${model.firstPage ? "Nothing to review" : "No more held referrals"}</h2>
  <p class="text-body-secondary mb-0">${
    model.firstPage
      ? "No referral is held right now. When a check holds a sign-up through a link, it waits here for a decision."
      : html`The referrals after this point were decided meanwhile. <a href="/admin/review/">Back to the newest</a>.`
  }</p>
</div></div>`
    : html`<form method="post" action="/admin/review/" id="review-form" novalidate>
${csrfField(model.csrfToken)}
${model.cursor ? html`<input type="hidden" name="cursor" value="${model.cursor}">` : null}
<fieldset class="mb-3">
<legend class="h6">Held referrals (tick the ones to decide)</legend>
${fieldErrorsFor(errors, "ids")}
<table class="table align-middle review-table" id="review">
<caption class="visually-hidden">Held referrals, newest first</caption>
<thead><tr><th scope="col">Referral</th><th scope="col">Invitee</th><th scope="col">Inviter</th><th scope="col">Joined</th><th scope="col">Why held</th><th scope="col" class="text-md-end">Pending</th><th scope="col">Inviter's other referrals</th></tr></thead>
<tbody>${rows.map(
        (r) => html`<tr id="referral-${r.id}">
<td data-label="Referral"><div class="form-check mb-0"><input class="form-check-input" type="checkbox" name="ids" value="${r.id}" id="select-${r.id}"${ticked.has(String(r.id)) ? html` checked` : null}${errors.ids?.length ? html` aria-describedby="review-ids-errors"` : null}><label class="form-check-label text-nowrap" for="select-${r.id}"><span class="visually-hidden">Select referral </span>#${r.id}</label></div></td>
<td data-label="Invitee">${userLink(r.inviteeId, r.inviteeUsername)}</td>
<td data-label="Inviter">${userLink(r.inviterId, r.inviterUsername)}</td>
<td data-label="Joined" class="review-when">${utcMinute(r.createdAt)}</td>
<td data-label="Why held" class="review-signals"><ul class="list-unstyled mb-0 small">${heldBecause(r).map((words) => html`<li>${words}</li>`)}</ul></td>
<td data-label="Pending" class="text-md-end font-monospace text-nowrap">${formatDollars(r.pendingCents)}</td>
<td data-label="Inviter's other referrals" class="small">${inviterHistory(r)}</td>
</tr>`,
      )}</tbody></table>
</fieldset>
<div class="card shadow-sm mb-3"><div class="card-body">
  <h2 class="h5">Decide the ticked referrals</h2>
  <div class="row g-3">
    <div class="col-12 col-lg-6">
      <label for="review-reason" class="form-label">Reason <span class="text-body-secondary">(the invitee and the inviter see it; required to reject)</span></label>
      <textarea class="form-control${invalid("reason")}" id="review-reason" name="reason" rows="2" maxlength="${DECISION_REASON_MAX_LENGTH}"${described("reason")}>${form.reason ?? ""}</textarea>
      ${fieldErrorsFor(errors, "reason")}
    </div>
    <div class="col-12 col-lg-6">
      <label for="review-note" class="form-label">Staff note <span class="text-body-secondary">(only staff see it; optional)</span></label>
      <textarea class="form-control${invalid("note")}" id="review-note" name="note" rows="2" maxlength="${STAFF_NOTE_MAX_LENGTH}"${described("note")}>${form.note ?? ""}</textarea>
      ${fieldErrorsFor(errors, "note")}
    </div>
  </div>
  ${fieldErrorsFor(errors, "action")}
  <div class="d-flex flex-wrap gap-2 mt-3">
    <button type="submit" name="action" value="approve" class="btn btn-success" id="approve-button">Approve ticked</button>
    <button type="submit" name="action" value="reject" class="btn btn-danger" id="reject-button">Reject ticked</button>
  </div>
</div></div>
</form>`
}
${pageLinks({
  first: model.firstPage ? null : { href: "/admin/review/", label: "Newest" },
  next: { href: model.nextPage, label: "Older held referrals" },
})}`,
  );
}

/** The notice after a decision, from the numbers the redirect carries. */
export function reviewNotice(query: {
  notice?: unknown;
  decided?: unknown;
  already?: unknown;
}): string | null {
  const action = query.notice;
  if (action !== "approved" && action !== "rejected") return null;
  const count = (value: unknown) =>
    typeof value === "string" && /^[0-9]{1,6}$/.test(value) ? Number(value) : 0;
  const decided = count(query.decided);
  const already = count(query.already);
  const parts: string[] = [];
  parts.push(
    decided === 1
      ? `1 referral ${action}.`
      : decided === 0
        ? "No referral was decided."
        : `${decided} referrals ${action}.`,
  );
  if (already > 0) {
    parts.push(
      already === 1
        ? "1 was already decided and was left as it was."
        : `${already} were already decided and were left as they were.`,
    );
  }
  return parts.join(" ");
}
