// /admin/: the audit log, newest first.
import type { AuditEntry } from "../../../admin/audit.js";
import { CREDIT_USE_MAX_LENGTH } from "../../../admin/programme-text.js";
import { html, type SafeHtml } from "../../html.js";
import { csrfField, pageLinks } from "../layout.js";
import { auditTable } from "./audit-table.js";
import { type AdminFrame, adminLayout } from "./layout.js";

export function adminHomePage(
  model: AdminFrame & {
    audit: AuditEntry[];
    nextPage: string | null;
    firstPage: boolean;
    /** What credit can be used for: the text (as saved, or as typed when refused) and its errors. */
    creditUse: { text: string; errors: string[] };
    notice: string | null;
  },
): SafeHtml {
  return adminLayout(
    model,
    "Audit log",
    "home",
    html`${
      model.heldCount > 0
        ? html`<div class="alert alert-warning d-flex flex-wrap align-items-center gap-2" id="review-callout">
  <span>${model.heldCount === 1 ? "1 referral is" : `${model.heldCount.toLocaleString("en-US")} referrals are`} held for review.</span>
  <a class="btn btn-sm btn-dark ms-sm-auto" href="/admin/review/">Open the review queue</a>
</div>`
        : html`<p class="small text-body-secondary" id="review-callout">No referral is waiting for review. <a href="/admin/review/">Review queue</a></p>`
    }
${model.notice ? html`<div class="alert alert-success" role="status">${model.notice}</div>` : null}
<h1 class="h3 mb-3">Audit log</h1>
<p class="text-body-secondary">Every staff action, newest first: who did what, to whom, and when.</p>
<section class="card shadow-sm mb-4" aria-labelledby="credit-use-heading">
  <div class="card-body">
    <h2 class="h6" id="credit-use-heading">What credit can be used for</h2>
    <form method="post" action="/admin/settings/credit-text/">
      ${csrfField(model.csrfToken)}
      <label for="credit-use-text" class="form-label small text-body-secondary">Shown on every dashboard and on the sign-up page; leave empty to show nothing. At most ${CREDIT_USE_MAX_LENGTH} characters.</label>
      <textarea class="form-control${model.creditUse.errors.length ? " is-invalid" : ""}" id="credit-use-text" name="text" rows="2"
        maxlength="${CREDIT_USE_MAX_LENGTH}"${model.creditUse.errors.length ? html` aria-invalid="true" aria-describedby="credit-use-errors"` : null}>${model.creditUse.text}</textarea>
      ${
        model.creditUse.errors.length
          ? html`<div class="invalid-feedback" id="credit-use-errors">${model.creditUse.errors.map((e) => html`<div>${e}</div>`)}</div>`
          : null
      }
      <button type="submit" class="btn btn-primary btn-sm mt-2">Save</button>
    </form>
  </div>
</section>
${auditTable(model.audit, true)}
${pageLinks({
  first: model.firstPage ? null : { href: "/admin/", label: "Newest" },
  next: { href: model.nextPage, label: "Older entries" },
})}`,
  );
}
