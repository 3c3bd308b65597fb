// /admin/outbox/: the email the service has written, newest first, and one message as it reads.
// Without SMTP_URL every message is "kept" here, so the zero-setup start still shows the whole flow.
import type { OutboxStatus } from "../../../db/schema.js";
import type { RenderedMessage } from "../../../email/messages.js";
import type { OutboxRow } from "../../../email/outbox.js";
import { isoTime, utcMinute } from "../../../format.js";
import { html, type SafeHtml } from "../../html.js";
import { type AdminFrame, adminLayout } from "./layout.js";

export interface OutboxPageModel {
  rows: OutboxRow[];
  counts: Record<OutboxStatus, number>;
  status: OutboxStatus | null;
  smtpConfigured: boolean;
  nextPage: string | null;
}

const statusBadge: Record<OutboxStatus, string> = {
  pending: "text-bg-warning",
  sent: "text-bg-success",
  failed: "text-bg-danger",
  kept: "text-bg-secondary",
};

const kindLabels: Record<OutboxRow["kind"], string> = {
  verify_email: "Confirm address",
  password_reset: "Password reset",
  friend_joined: "Friend joined",
  reward_earned: "Reward earned",
  referral_approved: "Referral approved",
  referral_rejected: "Referral rejected",
  webhook_disabled: "Webhook turned off",
};

function badge(status: OutboxStatus): SafeHtml {
  return html`<span class="badge ${statusBadge[status]}">${status}</span>`;
}

/** In UTC and sortable, as on the other staff pages. */
function written(date: Date): SafeHtml {
  return html`<time datetime="${isoTime(date)}">${utcMinute(new Date(date))}</time>`;
}

/** "after 2 attempts"; nothing for a message never tried (kept, or pending its first send). */
function attemptsText(attempts: number): string {
  return attempts === 0 ? "" : ` after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
}

export function outboxPage(frame: AdminFrame, model: OutboxPageModel): SafeHtml {
  const filter = (status: OutboxStatus | null, label: string) => {
    const active = model.status === status;
    const href = status ? `/admin/outbox/?status=${status}` : "/admin/outbox/";
    return html`<a class="btn btn-sm ${active ? "btn-primary" : "btn-outline-secondary"}" href="${href}"${active ? html` aria-current="page"` : null}>${label}</a>`;
  };
  const total = Object.values(model.counts).reduce((a, b) => a + b, 0);
  return adminLayout(
    frame,
    "Outbox",
    "outbox",
    html`<h1 class="h3 mb-3">Outbox</h1>
<p class="text-body-secondary">${
      model.smtpConfigured
        ? "Messages are sent over SMTP by the email worker; failed sends are retried with a growing wait."
        : html`No SMTP server is configured (<code>SMTP_URL</code>): messages are kept here, unsent, for you to read.`
    }</p>
<div class="d-flex flex-wrap gap-2 mb-3" role="group" aria-label="Show messages by status">
  ${filter(null, `All (${total})`)}
  ${filter("pending", `Pending (${model.counts.pending})`)}
  ${filter("sent", `Sent (${model.counts.sent})`)}
  ${filter("failed", `Failed (${model.counts.failed})`)}
  ${filter("kept", `Kept (${model.counts.kept})`)}
</div>
${
  model.rows.length === 0
    ? html`<p class="text-body-secondary">No messages${model.status ? html` with this status` : null} yet.</p>`
    : html`<div class="table-responsive"><table class="table table-sm align-middle bg-white stack-table">
<thead><tr><th scope="col">Written</th><th scope="col">Message</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Attempts</th></tr></thead>
<tbody>
${model.rows.map(
  (row) => html`<tr>
  <td data-label="Written" class="text-nowrap">${written(row.createdAt)}</td>
  <td data-label="Message" class="text-nowrap"><a href="/admin/outbox/${row.id}/">${kindLabels[row.kind]}</a></td>
  <td data-label="To" class="text-break">${row.userId !== null ? html`<a href="/admin/users/${row.userId}/">${row.toAddress}</a>` : row.toAddress}</td>
  <td data-label="Status">${badge(row.status)}${row.lastError ? html`<div class="small text-danger-emphasis text-break">${row.lastError}</div>` : null}</td>
  <td data-label="Attempts">${row.attempts}</td>
</tr>`,
)}
</tbody></table></div>`
}
${model.nextPage ? html`<a class="btn btn-outline-secondary" href="${model.nextPage}">Older messages</a>` : null}`,
  );
}

export function outboxMessagePage(
  frame: AdminFrame,
  row: OutboxRow,
  message: RenderedMessage | null,
  linkHidden = false,
): SafeHtml {
  return adminLayout(
    frame,
    `Message ${row.id}`,
    "outbox",
    html`<nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/admin/outbox/">Outbox</a></li><li class="breadcrumb-item active" aria-current="page">Message ${row.id}</li></ol></nav>
<div class="card shadow-sm"><div class="card-body">
  <dl class="row mb-0">
    <dt class="col-sm-3 col-lg-2">To</dt><dd class="col-sm-9 col-lg-10 text-break">${row.toAddress}</dd>
    <dt class="col-sm-3 col-lg-2">Status</dt><dd class="col-sm-9 col-lg-10">${badge(row.status)}${attemptsText(row.attempts)}${row.lastError ? html` <span class="text-danger-emphasis text-break">(${row.lastError})</span>` : null}</dd>
    <dt class="col-sm-3 col-lg-2">Written</dt><dd class="col-sm-9 col-lg-10">${written(row.createdAt)}</dd>
    ${row.sentAt ? html`<dt class="col-sm-3 col-lg-2">Sent</dt><dd class="col-sm-9 col-lg-10">${written(row.sentAt)}</dd>` : null}
  </dl>
</div></div>
${
  message
    ? html`<h2 class="h5 mt-4">${message.subject}</h2>
${linkHidden ? html`<p class="alert alert-secondary">The reset link is hidden: whoever holds it could set this person's password, so it goes to their inbox alone.</p>` : null}
<pre class="bg-white border rounded p-3 outbox-text">${message.text}</pre>`
    : html`<p class="mt-4 text-body-secondary">Its content is not kept once it is sent or given up: the links it carried worked once.</p>`
}`,
  );
}
