// The audit log as a table: on the admin home page (every entry) and on a user's page (theirs).
import type { AuditEntry } from "../../../admin/audit.js";
import { formatDollars, signedDollars, utcMinute } from "../../../format.js";
import { html, type SafeHtml } from "../../html.js";
import { userLink } from "./layout.js";

const actionLabels: Record<string, string> = {
  balance_adjusted: "Balance adjusted",
  user_deactivated: "User deactivated",
  user_reactivated: "User reactivated",
  staff_created: "Staff user created",
  staff_granted: "Made staff",
  users_exported: "Users exported",
  ledger_exported: "Ledger exported",
  referral_approved: "Referral approved",
  referral_rejected: "Referral rejected",
  session_ended: "Session ended",
  referral_link_regenerated: "New referral link",
  users_imported: "Users imported from the Django version",
  email_verification_resent: "Verification link sent again",
  account_deleted: "Account deleted by its owner",
  webhook_endpoint_created: "Webhook endpoint added",
  webhook_endpoint_updated: "Webhook endpoint changed",
  webhook_endpoint_deleted: "Webhook endpoint deleted",
  webhook_secret_rotated: "Webhook secret rotated",
  api_key_created: "API key made",
  api_key_revoked: "API key revoked",
};

function auditDetails(entry: AuditEntry): SafeHtml | string {
  const d = entry.details;
  if (entry.action === "balance_adjusted" && typeof d.amount_cents === "number") {
    const note = typeof d.staff_note === "string" ? d.staff_note : null;
    return html`<span class="${d.amount_cents >= 0 ? "text-success" : "text-danger"} fw-semibold">${signedDollars(d.amount_cents)}</span>
      (balance after: ${formatDollars(Number(d.balance_after_cents ?? 0))}) — ${String(d.reason ?? "")}${note ? html` <span class="text-body-secondary">(staff note: ${note})</span>` : null}`;
  }
  if (entry.action === "session_ended") {
    const from = [d.client_address, d.user_agent].filter((part) => typeof part === "string" && part !== "");
    return from.length ? `from ${from.join(", ")}` : "";
  }
  if (entry.action === "referral_link_regenerated") return "the old link stopped working";
  if (entry.action === "referral_approved" || entry.action === "referral_rejected") {
    const amount = Number(d.amount_cents ?? 0);
    const reason = typeof d.reason === "string" ? d.reason : null;
    const note = typeof d.staff_note === "string" ? d.staff_note : null;
    return html`Referral #${String(d.referral_id ?? "?")}: ${formatDollars(amount)} ${entry.action === "referral_approved" ? "posted" : "voided"}${reason ? html` — ${reason}` : null}${note ? html` <span class="text-body-secondary">(staff note: ${note})</span>` : null}`;
  }
  if (entry.action === "users_imported") {
    return `${Number(d.users ?? 0)} user(s), ${Number(d.renamed ?? 0)} renamed, ${formatDollars(Number(d.balance_cents ?? 0))} carried over`;
  }
  if (entry.action === "user_deactivated") return `${Number(d.sessions_ended ?? 0)} session(s) ended`;
  if (entry.action === "staff_created" || entry.action === "staff_granted")
    return `via ${String(d.via ?? "")}`;
  if (entry.action.startsWith("webhook_") && typeof d.url === "string") {
    return html`<a href="/admin/webhooks/${String(Number(d.endpoint_id))}/">endpoint ${String(Number(d.endpoint_id))}</a>: ${d.url}`;
  }
  if (entry.action === "api_key_created" || entry.action === "api_key_revoked") {
    const scope = typeof d.scope === "string" ? `, ${d.scope === "write" ? "read-write" : "read"}` : "";
    return html`<q>${String(d.name ?? "")}</q> (<code>${String(d.prefix ?? "")}</code>${scope})`;
  }
  return "";
}

export function auditTable(entries: AuditEntry[], showTarget: boolean): SafeHtml {
  if (entries.length === 0) return html`<p class="text-body-secondary">Nothing recorded yet.</p>`;
  return html`<div class="table-responsive"><table class="table table-sm align-middle stack-table">
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th>${showTarget ? html`<th scope="col">User</th>` : null}<th scope="col">Details</th></tr></thead>
<tbody>${entries.map(
    (e) => html`<tr>
<td class="text-nowrap">${utcMinute(e.createdAt)}</td>
<td data-label="Who">${e.actorId !== null ? userLink(e.actorId, e.actorUsername) : e.apiKeyName !== null ? html`API key <q>${e.apiKeyName}</q>` : html`<span class="text-body-secondary">command line</span>`}</td>
<td data-label="What">${actionLabels[e.action] ?? e.action}</td>
${showTarget ? html`<td data-label="User">${userLink(e.targetUserId, e.targetUsername)}</td>` : null}
<td data-label="Details" class="text-break">${auditDetails(e)}</td></tr>`,
  )}</tbody></table></div>`;
}
