// /admin/: the audit log, newest first.
import type { SessionUser } from "../../../accounts/sessions.js";
import type { AuditEntry } from "../../../admin/audit.js";
import { html, type SafeHtml } from "../../html.js";
import { pageLinks } from "../layout.js";
import { auditTable } from "./audit-table.js";
import { adminLayout } from "./layout.js";

export function adminHomePage(model: {
  staff: SessionUser;
  csrfToken: string;
  audit: AuditEntry[];
  nextPage: string | null;
  firstPage: boolean;
}): SafeHtml {
  return adminLayout(
    model.staff,
    model.csrfToken,
    "Audit log",
    "home",
    html`<h1 class="h3 mb-3">Audit log</h1>
<p class="text-body-secondary">Every staff action, newest first: who did what, to whom, and when.</p>
${auditTable(model.audit, true)}
${pageLinks({
  first: model.firstPage ? null : { href: "/admin/", label: "Newest" },
  next: { href: model.nextPage, label: "Older entries" },
})}`,
  );
}
