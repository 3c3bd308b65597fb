// A confirmation step for the admin's actions that are hard to undo (deactivating a user, giving them a
// new referral link): a page of its own with the consequences and one button, so it works without
// JavaScript (the Content-Security-Policy allows no inline script).
import { html, type SafeHtml } from "../../html.js";
import { csrfField } from "../layout.js";
import { type AdminFrame, adminLayout } from "./layout.js";

export interface ConfirmModel {
  user: { id: number; username: string };
  /** The page's heading: "Deactivate alice?" */
  question: string;
  /** What happens, one sentence each. */
  consequences: string[];
  /** Where the form posts. */
  action: string;
  confirmLabel: string;
}

export function confirmPage(frame: AdminFrame, model: ConfirmModel): SafeHtml {
  const back = `/admin/users/${model.user.id}/`;
  return adminLayout(
    frame,
    model.question,
    "users",
    html`<nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/admin/users/">Users</a></li><li class="breadcrumb-item"><a href="${back}">${model.user.username}</a></li><li class="breadcrumb-item active" aria-current="page">Confirm</li></ol></nav>
<div class="card shadow-sm border-danger-subtle confirm-card"><div class="card-body">
  <h1 class="h4 mb-3">${model.question}</h1>
  <ul class="mb-4">${model.consequences.map((c) => html`<li>${c}</li>`)}</ul>
  <form method="post" action="${model.action}" class="d-flex flex-wrap gap-2" id="confirm-form">
    ${csrfField(frame.csrfToken)}
    <input type="hidden" name="confirm" value="yes">
    <button type="submit" class="btn btn-danger">${model.confirmLabel}</button>
    <a class="btn btn-outline-secondary" href="${back}">Cancel</a>
  </form>
</div></div>`,
  );
}
