// /admin/: the audit log, newest first.
import type { SessionUser } from "../../../accounts/sessions.js";
import type { AuditEntry } from "../../../admin/audit.js";
import { html, type SafeHtml } from "../../html.js";
import { auditTable } from "./audit-table.js";
import { adminLayout } from "./layout.js";

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
