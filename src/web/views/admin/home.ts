// /admin/: the audit log, newest first.
import type { AuditEntry } from "../../../admin/audit.js";
import { html, type SafeHtml } from "../../html.js";
import { pageLinks } from "../layout.js";
import { auditTable } from "./audit-table.js";
import { type AdminFrame, adminLayout } from "./layout.js";

export function adminHomePage(
  model: AdminFrame & {
    audit: AuditEntry[];
    nextPage: string | null;
    firstPage: boolean;
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
<h1 class="h3 mb-3">Audit log</h1>
<p class="text-body-secondary">Every staff action, newest first: who did what, to whom, and when.</p>
${auditTable(model.audit, true)}
${pageLinks({
  first: model.firstPage ? null : { href: "/admin/", label: "Newest" },
  next: { href: model.nextPage, label: "Older entries" },
})}`,
  );
}
