// /admin/api-keys/: the keys programs call /api/v1/ with. A new key is shown once, on the answer to
// the form that made it; afterwards only its prefix is known. Revoking asks first, on a page of its own.
import { API_KEY_NAME_MAX_LENGTH, type ApiKeyRow, type CreatedApiKey } from "../../../api/keys.js";
import type { ApiKeyScope } from "../../../db/schema.js";
import type { FieldErrors } from "../../../errors.js";
import { isoTime, utcMinute } from "../../../format.js";
import { html, type SafeHtml } from "../../html.js";
import { csrfField, formErrors } from "../layout.js";
import { type AdminFrame, adminLayout } from "./layout.js";

export interface ApiKeyFormState {
  name?: string;
  scope?: string;
  errors?: FieldErrors;
}

export interface ApiKeysPageModel {
  keys: ApiKeyRow[];
  /** The key just made: its whole value is on this page and nowhere else, ever. */
  created?: CreatedApiKey | null;
  form?: ApiKeyFormState;
  notice?: string | null;
}

export const scopeLabels: Record<ApiKeyScope, string> = { read: "Read", write: "Read-write" };

function when(date: Date | null): SafeHtml | string {
  if (date === null) return "never";
  return html`<time datetime="${isoTime(date)}">${utcMinute(new Date(date))}</time>`;
}

function fieldErrorsFor(errors: FieldErrors, name: string): SafeHtml | null {
  const list = errors[name];
  if (!list?.length) return null;
  return html`<div class="invalid-feedback d-block" id="key-${name}-errors">${list.map((m) => html`<div>${m}</div>`)}</div>`;
}

function createdNotice(key: CreatedApiKey): SafeHtml {
  return html`<div class="alert alert-success" role="status" id="new-key">
  <h2 class="h5">Key “${key.name}” made</h2>
  <p class="mb-2">Copy it now: it is shown only this once. The service keeps only a digest of it, and cannot show it again.</p>
  <p class="fw-semibold mb-1">${scopeLabels[key.scope]} key <span class="fw-normal small">(a click selects all of it)</span></p>
  <code class="d-block bg-white border rounded p-2 mb-2 fs-6 text-break user-select-all" id="new-key-value">${key.key}</code>
  <p class="small mb-0">Programs send it as <code>Authorization: Bearer ${key.prefix}…</code>. Store it as you would a password.</p>
</div>`;
}

function keyRow(key: ApiKeyRow): SafeHtml {
  return html`<tr>
  <td class="text-break">${key.name}</td>
  <td data-label="Key" class="text-nowrap"><code>${key.prefix}…</code></td>
  <td data-label="Scope" class="text-nowrap">${scopeLabels[key.scope]}</td>
  <td data-label="Made">${when(key.createdAt)}${key.createdByUsername ? html` by ${key.createdByUsername}` : null}</td>
  <td data-label="Last used">${when(key.lastUsedAt)}</td>
  <td data-label="Status">${
    key.revokedAt
      ? html`<span class="badge text-bg-secondary">revoked</span> <span class="small">${when(key.revokedAt)}${key.revokedByUsername ? html` by ${key.revokedByUsername}` : null}</span>`
      : html`<span class="badge text-bg-success">active</span> <a class="btn btn-outline-danger btn-sm ms-1" href="/admin/api-keys/${key.id}/revoke/">Revoke<span class="visually-hidden"> ${key.name}</span></a>`
  }</td>
</tr>`;
}

export function apiKeysPage(frame: AdminFrame, model: ApiKeysPageModel): SafeHtml {
  const form = model.form ?? {};
  const errors = form.errors ?? {};
  const invalid = (name: string) => (errors[name]?.length ? " is-invalid" : "");
  const described = (name: string) =>
    errors[name]?.length ? html` aria-invalid="true" aria-describedby="key-${name}-errors"` : null;
  const scope = form.scope === "write" ? "write" : "read";
  return adminLayout(
    frame,
    "API keys",
    "api-keys",
    html`<h1 class="h3 mb-3">API keys</h1>
<p>Programs call the API (<code>/api/v1/</code>, see <a href="/api/docs">its reference</a>) with a key sent as <code>Authorization: Bearer KEY</code>.
A <strong>read</strong> key reads users, their credit history and their referrals; a <strong>read-write</strong> key may also adjust credit and deactivate or reactivate users. Every change is in the audit log under the key's name.</p>
${model.notice ? html`<div class="alert alert-success" role="status">${model.notice}</div>` : null}
${model.created ? createdNotice(model.created) : null}
<div class="card shadow-sm mb-4"><div class="card-body">
  <h2 class="h5">Make a key</h2>
  ${formErrors(errors.__all__)}
  <form method="post" action="/admin/api-keys/" id="api-key-form" novalidate>
    ${csrfField(frame.csrfToken)}
    <div class="row g-3 align-items-start">
      <div class="col-12 col-md-6">
        <label for="key-name" class="form-label">Name <span class="text-body-secondary">(who uses it, for what: the audit log shows it)</span></label>
        <input type="text" class="form-control${invalid("name")}" id="key-name" name="name" value="${form.name ?? ""}" maxlength="${API_KEY_NAME_MAX_LENGTH}" required${described("name")}>
        ${fieldErrorsFor(errors, "name")}
      </div>
      <fieldset class="col-12 col-md-6">
        <legend class="form-label fs-6 mb-2">Scope</legend>
        <div class="form-check">
          <input class="form-check-input${invalid("scope")}" type="radio" name="scope" id="key-scope-read" value="read"${scope === "read" ? html` checked` : null}${described("scope")}>
          <label class="form-check-label" for="key-scope-read">Read <span class="text-body-secondary">(users, ledgers, referrals)</span></label>
        </div>
        <div class="form-check">
          <input class="form-check-input${invalid("scope")}" type="radio" name="scope" id="key-scope-write" value="write"${scope === "write" ? html` checked` : null}${described("scope")}>
          <label class="form-check-label" for="key-scope-write">Read-write <span class="text-body-secondary">(also adjust credit, deactivate and reactivate)</span></label>
        </div>
        ${fieldErrorsFor(errors, "scope")}
      </fieldset>
    </div>
    <button type="submit" class="btn btn-primary mt-3">Make the key</button>
  </form>
</div></div>
<h2 class="h5">Keys</h2>
${
  model.keys.length === 0
    ? html`<p class="text-body-secondary">No keys yet.</p>`
    : html`<div class="table-responsive"><table class="table table-sm align-middle bg-white stack-table" id="api-keys">
<thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Scope</th><th scope="col">Made</th><th scope="col">Last used</th><th scope="col">Status</th></tr></thead>
<tbody>${model.keys.map(keyRow)}</tbody></table></div>
<p class="small text-body-secondary">“Last used” is written at most once a minute per key.</p>`
}`,
  );
}

export function revokeConfirmPage(frame: AdminFrame, key: ApiKeyRow): SafeHtml {
  return adminLayout(
    frame,
    `Revoke ${key.name}?`,
    "api-keys",
    html`<nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/admin/api-keys/">API keys</a></li><li class="breadcrumb-item active" aria-current="page">Revoke</li></ol></nav>
<div class="card shadow-sm border-danger-subtle confirm-card"><div class="card-body">
  <h1 class="h4 mb-3 text-break">Revoke the key “${key.name}”?</h1>
  <ul class="mb-4">
    <li>Its next request, and every one after, is refused (<code>401</code>): the programs using <code>${key.prefix}…</code> stop working at once.</li>
    <li>It cannot be turned back on: make a new key instead.</li>
    <li>The audit log keeps naming it for the changes it made.</li>
  </ul>
  <form method="post" action="/admin/api-keys/${key.id}/revoke/" class="d-flex flex-wrap gap-2" id="confirm-form">
    ${csrfField(frame.csrfToken)}
    <input type="hidden" name="confirm" value="yes">
    <button type="submit" class="btn btn-danger">Revoke the key</button>
    <a class="btn btn-outline-secondary" href="/admin/api-keys/">Cancel</a>
  </form>
</div></div>`,
  );
}
