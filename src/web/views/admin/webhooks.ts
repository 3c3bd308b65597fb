// /admin/webhooks/: the endpoints events are sent to, the form that adds one, the page showing a new
// secret once, an endpoint's settings and delivery log, and one delivery with its attempts.
import type { WebhookDeliveryStatus } from "../../../db/schema.js";
import type { FieldErrors } from "../../../errors.js";
import { eventTypeNames, eventTypes } from "../../../events/events.js";
import { isoTime, utcMinute } from "../../../format.js";
import type { AttemptRow, DeliveryRow } from "../../../webhooks/deliveries.js";
import { DESCRIPTION_MAX_LENGTH, EVENT_FIELD_PREFIX } from "../../../webhooks/endpoint-admin.js";
import type { EndpointSummary, WebhookEndpoint } from "../../../webhooks/endpoints.js";
import { html, type SafeHtml } from "../../html.js";
import { csrfField, formErrors } from "../layout.js";
import { type AdminFrame, adminLayout } from "./layout.js";

/** What the add and edit forms show: the values, as saved or as typed, and what is wrong with them. */
export interface EndpointFormState {
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  errors: FieldErrors;
}

export function emptyEndpointForm(): EndpointFormState {
  return { url: "", description: "", eventTypes: [], enabled: true, errors: {} };
}

/** The settings every webhook page explains itself with. */
export interface WebhookSettings {
  /** An endpoint failing this long is turned off. */
  giveUpHours: number;
  /** After a rotation, the previous secret signs this long beside the new one. */
  overlapHours: number;
  /** False with WEBHOOKS=off: events are recorded, nothing delivers them. */
  deliveriesOn: boolean;
  requireHttps: boolean;
}

const deliveryBadges: Record<WebhookDeliveryStatus, string> = {
  pending: "text-bg-warning",
  delivered: "text-bg-success",
  failed: "text-bg-danger",
  skipped: "text-bg-secondary",
};

const listNotices: Record<string, string> = {
  deleted: "The endpoint is deleted, with its delivery log. Nothing more is sent to it.",
};

const endpointNotices: Record<string, string> = {
  saved: "The endpoint is saved.",
};

const deliveryNotices: Record<string, string> = {
  test: "A test event (webhook.test) is on its way to this endpoint alone. Reload this page to see its attempts.",
  resent:
    "The event is being sent again as a new delivery, with the same webhook-id. Reload this page to see its attempts.",
};

function noticeOf(notices: Record<string, string>, key: string | null): SafeHtml | null {
  if (key === null || !Object.hasOwn(notices, key)) return null;
  return html`<div class="alert alert-success" role="status" id="webhook-notice">${notices[key]}</div>`;
}

function hours(n: number): string {
  return `${n} hour${n === 1 ? "" : "s"}`;
}

function when(date: Date): SafeHtml {
  return html`<time datetime="${isoTime(date)}">${utcMinute(date)}</time>`;
}

function deliveryBadge(status: string): SafeHtml {
  const style = deliveryBadges[status as WebhookDeliveryStatus] ?? "text-bg-secondary";
  return html`<span class="badge ${style}">${status}</span>`;
}

function endpointBadge(endpoint: WebhookEndpoint): SafeHtml {
  if (endpoint.enabled) return html`<span class="badge text-bg-success">on</span>`;
  if (endpoint.disabledReason === "failing")
    return html`<span class="badge text-bg-danger">turned off: failing</span>`;
  return html`<span class="badge text-bg-secondary">off</span>`;
}

/** Said on every page while nothing delivers: deliveries then wait, and staff should know why. */
function deliveriesOffNote(settings: WebhookSettings): SafeHtml | null {
  if (settings.deliveriesOn) return null;
  return html`<div class="alert alert-info" role="note">Webhooks are off on this server (<code>WEBHOOKS=off</code>): events are
recorded and deliveries wait, but nothing sends them until a server runs with webhooks on.</div>`;
}

/** The endpoints the service turned off, at the top of the list: how staff learn of it besides the email. */
function failingAlert(endpoints: EndpointSummary[], settings: WebhookSettings): SafeHtml | null {
  const off = endpoints.filter((e) => !e.enabled && e.disabledReason === "failing");
  if (off.length === 0) return null;
  return html`<div class="alert alert-danger" role="alert" id="failing-alert">
  <h2 class="h6 alert-heading fw-semibold">${off.length === 1 ? "An endpoint was turned off" : `${off.length} endpoints were turned off`}</h2>
  ${off.map(
    (
      e,
    ) => html`<p class="mb-1 text-break"><a class="alert-link" href="/admin/webhooks/${e.id}/">${e.url}</a> was turned off after failing
  for ${hours(settings.giveUpHours)}${e.failingSince ? html` (failing since ${when(e.failingSince)})` : null}. Its waiting deliveries failed.</p>`,
  )}
  <p class="mb-0">Once the receiver works again, turn the endpoint on from its page, and send the failed deliveries again.</p>
</div>`;
}

/** One endpoint's turned-off notice, on its own page. */
function failingNotice(endpoint: WebhookEndpoint, settings: WebhookSettings): SafeHtml | null {
  if (endpoint.enabled || endpoint.disabledReason !== "failing") return null;
  return html`<div class="alert alert-danger" role="alert" id="failing-alert">
  <strong>Turned off after failing for ${hours(settings.giveUpHours)}</strong>${
    endpoint.failingSince ? html` (failing since ${when(endpoint.failingSince)})` : null
  }. Its waiting deliveries failed and new events are not sent to it. Once the receiver works again, tick
  <em>On</em> below and save, then send the failed deliveries again.
</div>`;
}

function fieldErrors(id: string, errors: string[] | undefined): SafeHtml | null {
  if (!errors?.length) return null;
  return html`<div class="invalid-feedback d-block" id="${id}">${errors.map((m) => html`<div>${m}</div>`)}</div>`;
}

/** URL, description and event types: the fields both forms share, with ids under `prefix`. */
function endpointFields(prefix: string, form: EndpointFormState, settings: WebhookSettings): SafeHtml {
  const errors = form.errors;
  const invalid = (name: string) => (errors[name]?.length ? " is-invalid" : "");
  const described = (name: string, help: string | null) => {
    const ids = [errors[name]?.length ? `${prefix}-${name}-errors` : null, help].filter(Boolean).join(" ");
    return html`${ids ? html` aria-describedby="${ids}"` : null}${errors[name]?.length ? html` aria-invalid="true"` : null}`;
  };
  const chosen = new Set(form.eventTypes);
  return html`<div class="mb-3">
  <label for="${prefix}-url" class="form-label">Address (URL)</label>
  <input type="url" inputmode="url" class="form-control${invalid("url")}" id="${prefix}-url" name="url" value="${form.url}"
    required autocomplete="off" spellcheck="false" maxlength="2000" placeholder="https://example.com/webhooks"${described("url", `${prefix}-url-help`)}>
  ${fieldErrors(`${prefix}-url-errors`, errors.url)}
  <div class="form-text" id="${prefix}-url-help">${
    settings.requireHttps
      ? html`An <code>https://</code> address`
      : html`An <code>https://</code> (or, outside production, <code>http://</code>) address`
  } on the public internet: private and local network addresses are refused.</div>
</div>
<div class="mb-3">
  <label for="${prefix}-description" class="form-label">Description <span class="text-body-secondary">(optional)</span></label>
  <input type="text" class="form-control${invalid("description")}" id="${prefix}-description" name="description" value="${form.description}"
    maxlength="${DESCRIPTION_MAX_LENGTH}" autocomplete="off" placeholder="CRM sync"${described("description", null)}>
  ${fieldErrors(`${prefix}-description-errors`, errors.description)}
</div>
<fieldset class="mb-3"${errors.event_types?.length ? html` aria-describedby="${prefix}-event_types-errors"` : null}>
  <legend class="form-label fs-6 mb-1">Event types</legend>
  <p class="form-text mt-0 mb-2">The endpoint receives the events of the types ticked: at least one.</p>
  ${fieldErrors(`${prefix}-event_types-errors`, errors.event_types)}
  <div class="row row-cols-1 row-cols-lg-2 g-2">
  ${eventTypeNames.map((type) => {
    const id = `${prefix}-event-${type.replace(".", "-")}`;
    return html`<div class="col"><div class="form-check mb-0">
      <input class="form-check-input${invalid("event_types")}" type="checkbox" name="${EVENT_FIELD_PREFIX}${type}" value="on" id="${id}" aria-describedby="${id}-help"${chosen.has(type) ? html` checked` : null}>
      <label class="form-check-label" for="${id}"><code>${type}</code></label>
      <div class="form-text mt-0 small" id="${id}-help">${eventTypes[type]}</div>
    </div></div>`;
  })}
  </div>
</fieldset>`;
}

export interface WebhooksPageModel extends WebhookSettings {
  endpoints: EndpointSummary[];
  form: EndpointFormState;
  notice: string | null;
}

export function webhooksPage(frame: AdminFrame, model: WebhooksPageModel): SafeHtml {
  const hasErrors = Object.keys(model.form.errors).length > 0;
  return adminLayout(
    frame,
    "Webhooks",
    "webhooks",
    html`<h1 class="h3 mb-3">Webhooks</h1>
${failingAlert(model.endpoints, model)}
${noticeOf(listNotices, model.notice)}
${deliveriesOffNote(model)}
<p class="text-body-secondary">Each endpoint receives the events of the types chosen for it as a signed <code>POST</code>
(Standard Webhooks), retried for up to ${hours(model.giveUpHours)} until it answers with a 2xx.</p>
${
  model.endpoints.length === 0
    ? html`<p class="text-body-secondary" id="no-endpoints">No endpoints yet: add one below.</p>`
    : html`<div class="table-responsive"><table class="table table-sm align-middle bg-white stack-table" id="endpoints">
<thead><tr><th scope="col">Endpoint</th><th scope="col">Event types</th><th scope="col">Status</th><th scope="col">Deliveries</th><th scope="col" class="text-nowrap">Last delivered</th></tr></thead>
<tbody>
${model.endpoints.map(
  (e) => html`<tr>
  <td data-label="Endpoint" class="text-break endpoint-cell"><a href="/admin/webhooks/${e.id}/">${e.url}</a>${
    e.description ? html`<div class="small text-body-secondary fw-normal">${e.description}</div>` : null
  }</td>
  <td data-label="Event types"><ul class="list-unstyled mb-0 small">${e.eventTypes.map((type) => html`<li><code>${type}</code></li>`)}</ul></td>
  <td data-label="Status">${endpointBadge(e)}</td>
  <td data-label="Deliveries" class="text-nowrap"><span class="waiting">${e.pending} waiting</span>, <span class="${e.failed > 0 ? "text-danger-emphasis fw-semibold " : ""}failed">${e.failed} failed</span></td>
  <td data-label="Last delivered" class="text-nowrap">${e.lastDeliveredAt ? when(e.lastDeliveredAt) : html`<span class="text-body-secondary">never</span>`}</td>
</tr>`,
)}
</tbody></table></div>`
}
<div class="card shadow-sm mt-4 webhook-form-card"><div class="card-body">
  <h2 class="h5" id="add-endpoint">Add an endpoint</h2>
  ${hasErrors ? formErrors(["The endpoint was not added: see what to fix below."]) : null}
  <form method="post" action="/admin/webhooks/#add-endpoint" id="add-endpoint-form" novalidate aria-labelledby="add-endpoint">
    ${csrfField(frame.csrfToken)}
    ${endpointFields("new", model.form, model)}
    <button type="submit" class="btn btn-primary">Add endpoint</button>
    <div class="form-text">Its signing secret is shown once, on the next page.</div>
  </form>
</div></div>`,
  );
}

export interface SecretPageModel extends WebhookSettings {
  endpoint: WebhookEndpoint;
  secret: string;
  /** A rotation (the previous secret still signs a while), or a new endpoint. */
  rotated: boolean;
}

/** The one time a secret is shown: after the endpoint is added, or its secret rotated. */
export function webhookSecretPage(frame: AdminFrame, model: SecretPageModel): SafeHtml {
  const { endpoint } = model;
  const title = model.rotated ? "New signing secret" : "Endpoint added";
  return adminLayout(
    frame,
    title,
    "webhooks",
    html`<nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/admin/webhooks/">Webhooks</a></li><li class="breadcrumb-item"><a href="/admin/webhooks/${endpoint.id}/">Endpoint ${endpoint.id}</a></li><li class="breadcrumb-item active" aria-current="page">${model.rotated ? "New secret" : "Added"}</li></ol></nav>
<div class="card shadow-sm secret-card"><div class="card-body">
  <h1 class="h4 mb-3">${title}</h1>
  <p class="text-break mb-3">${model.rotated ? "The endpoint" : "Events of the types chosen are now sent to"} <strong>${endpoint.url}</strong>${
    model.rotated
      ? " signs its deliveries with the secret below from now on."
      : ", signed with the secret below."
  }</p>
  <div class="alert alert-warning mb-3" role="alert"><strong>Copy it now: it will not be shown again.</strong> Only this page
  shows it. If it is lost, rotate the secret to get a new one.</div>
  <h2 class="h6 fw-semibold mb-1" id="secret-label">Signing secret</h2>
  <p class="mb-1"><code class="d-block p-2 border rounded bg-body-tertiary text-break user-select-all fs-6" id="webhook-secret">${model.secret}</code></p>
  <p class="form-text mt-0 mb-3">Click the secret to select it all, then copy it (Ctrl+C, or ⌘C on a Mac) into the receiver's
  configuration, where its other secrets are kept.</p>
  ${
    model.rotated
      ? html`<p id="overlap-note">${
          model.overlapHours > 0 && endpoint.previousSecretExpiresAt
            ? html`The previous secret keeps signing beside this one for ${hours(model.overlapHours)}, until ${when(endpoint.previousSecretExpiresAt)}:
  deliveries verify with either while the receiver switches to the new secret. After that only the new one signs.`
            : html`The previous secret stopped signing at once: deliveries verify only with this one from now on.`
        }</p>`
      : null
  }
  <div class="d-flex flex-wrap gap-2">
    <a class="btn btn-primary" href="/admin/webhooks/${endpoint.id}/">Go to the endpoint</a>
    <a class="btn btn-outline-secondary" href="/admin/webhooks/">All webhooks</a>
  </div>
</div></div>`,
  );
}

export interface EndpointPageModel extends WebhookSettings {
  endpoint: WebhookEndpoint;
  deliveries: DeliveryRow[];
  status: WebhookDeliveryStatus | null;
  nextPage: string | null;
  firstPage: boolean;
  notice: string | null;
  form: EndpointFormState;
}

export function webhookEndpointPage(frame: AdminFrame, model: EndpointPageModel): SafeHtml {
  const { endpoint, form } = model;
  const base = `/admin/webhooks/${endpoint.id}/`;
  const filter = (status: WebhookDeliveryStatus | null, label: string) => {
    const active = model.status === status;
    const href = status ? `${base}?status=${status}` : base;
    return html`<a class="btn btn-sm ${active ? "btn-primary" : "btn-outline-secondary"}" href="${href}"${active ? html` aria-current="page"` : null}>${label}</a>`;
  };
  const hasErrors = Object.keys(form.errors).length > 0;
  const previousSigns =
    endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt.getTime() > Date.now()
      ? endpoint.previousSecretExpiresAt
      : null;
  return adminLayout(
    frame,
    `Endpoint ${endpoint.id}`,
    "webhooks",
    html`<nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/admin/webhooks/">Webhooks</a></li><li class="breadcrumb-item active" aria-current="page">Endpoint ${endpoint.id}</li></ol></nav>
<h1 class="h4 mb-1 text-break">${endpoint.url}</h1>
<p class="mb-3">${endpointBadge(endpoint)}${endpoint.description ? html` <span class="text-body-secondary">${endpoint.description}</span>` : null}</p>
${failingNotice(endpoint, model)}
${noticeOf(endpointNotices, model.notice)}
${deliveriesOffNote(model)}
<div class="row g-4 mb-4">
  <div class="col-12 col-lg-7">
    <div class="card shadow-sm h-100"><div class="card-body">
      <h2 class="h5" id="edit-endpoint">Settings</h2>
      ${hasErrors ? formErrors(["Nothing was saved: see what to fix below."]) : null}
      <form method="post" action="${base}" id="edit-endpoint-form" novalidate aria-labelledby="edit-endpoint">
        ${csrfField(frame.csrfToken)}
        ${endpointFields("edit", form, model)}
        <div class="form-check form-switch mb-3">
          <input class="form-check-input" type="checkbox" role="switch" name="enabled" value="on" id="edit-enabled" aria-describedby="edit-enabled-help"${form.enabled ? html` checked` : null}>
          <label class="form-check-label" for="edit-enabled">On</label>
          <div class="form-text mt-0" id="edit-enabled-help">Off: new events are not sent to it. Turning it on again starts its failure count afresh.</div>
        </div>
        <button type="submit" class="btn btn-primary">Save</button>
      </form>
    </div></div>
  </div>
  <div class="col-12 col-lg-5">
    <div class="card shadow-sm h-100"><div class="card-body">
      <h2 class="h5">Actions</h2>
      <form method="post" action="${base}test/" class="mb-1">
        ${csrfField(frame.csrfToken)}
        <button type="submit" class="btn btn-outline-primary" id="send-test">Send a test event</button>
      </form>
      <p class="form-text mt-0 mb-3">A <code>webhook.test</code> event, to this endpoint only (even when it is off).</p>
      <form method="post" action="${base}rotate/" class="mb-1">
        ${csrfField(frame.csrfToken)}
        <button type="submit" class="btn btn-outline-secondary" id="rotate-secret">Rotate secret</button>
      </form>
      <p class="form-text mt-0 mb-3">A new secret, shown once.${
        model.overlapHours > 0
          ? ` The current one keeps signing beside it for ${hours(model.overlapHours)}, while the receiver switches.`
          : " The current one stops signing at once."
      }${previousSigns ? html` <span id="previous-secret-note">The previous secret signs until ${when(previousSigns)}.</span>` : null}</p>
      <a class="btn btn-outline-danger" href="${base}delete/" id="delete-endpoint">Delete…</a>
      <p class="form-text mt-1 mb-0">With its delivery log. You confirm on the next page.</p>
    </div></div>
  </div>
</div>

<h2 class="h5" id="deliveries">Deliveries</h2>
<div class="d-flex flex-wrap gap-2 mb-3" role="group" aria-label="Show deliveries by status">
  ${filter(null, "All")}
  ${filter("pending", "Pending")}
  ${filter("delivered", "Delivered")}
  ${filter("failed", "Failed")}
  ${filter("skipped", "Skipped")}
</div>
${
  model.deliveries.length === 0
    ? html`<p class="text-body-secondary" id="no-deliveries">No deliveries${model.status ? " with this status" : ""}${model.firstPage ? "" : " before these"} yet.</p>`
    : html`<div class="table-responsive"><table class="table table-sm align-middle bg-white stack-table" id="delivery-log">
<thead><tr><th scope="col">Created</th><th scope="col">Event</th><th scope="col">Event id</th><th scope="col">Status</th><th scope="col" class="text-end">Attempts</th><th scope="col">Last answer</th></tr></thead>
<tbody>
${model.deliveries.map(
  (d) => html`<tr>
  <td data-label="Created" class="text-nowrap">${when(d.createdAt)}</td>
  <td data-label="Event" class="text-nowrap"><a href="${base}deliveries/${d.id}/">${d.eventType}</a>${d.manual ? html` <span class="badge text-bg-light border">manual</span>` : null}</td>
  <td data-label="Event id"><code class="event-id">${d.eventId}</code></td>
  <td data-label="Status">${deliveryBadge(d.status)}</td>
  <td data-label="Attempts" class="text-end">${d.attempts}</td>
  <td data-label="Last answer" class="text-break">${
    d.lastStatusCode !== null
      ? html`<span class="font-monospace">${d.lastStatusCode}</span>`
      : d.attempts === 0
        ? html`<span class="text-body-secondary">not tried yet</span>`
        : null
  }${d.lastError ? html`<div class="small text-danger-emphasis">${d.lastError}</div>` : null}</td>
</tr>`,
)}
</tbody></table></div>`
}
${
  model.nextPage || !model.firstPage
    ? html`<nav class="d-flex flex-wrap gap-2" aria-label="Pages">${
        model.firstPage
          ? null
          : html`<a class="btn btn-outline-secondary btn-sm" href="${model.status ? `${base}?status=${model.status}` : base}">Newest deliveries</a>`
      }${model.nextPage ? html`<a class="btn btn-outline-primary btn-sm" href="${model.nextPage}" rel="next">Older deliveries</a>` : null}</nav>`
    : null
}`,
  );
}

export function deleteWebhookPage(frame: AdminFrame, endpoint: WebhookEndpoint): SafeHtml {
  const base = `/admin/webhooks/${endpoint.id}/`;
  return adminLayout(
    frame,
    "Delete the endpoint?",
    "webhooks",
    html`<nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/admin/webhooks/">Webhooks</a></li><li class="breadcrumb-item"><a href="${base}">Endpoint ${endpoint.id}</a></li><li class="breadcrumb-item active" aria-current="page">Delete</li></ol></nav>
<div class="card shadow-sm border-danger-subtle confirm-card"><div class="card-body">
  <h1 class="h4 mb-3">Delete this endpoint?</h1>
  <p class="text-break"><strong>${endpoint.url}</strong>${endpoint.description ? html` (${endpoint.description})` : null}</p>
  <ul class="mb-4">
    <li>No more events are sent to it, and deliveries waiting for it are dropped.</li>
    <li>Its delivery log and its secret are deleted: this cannot be undone.</li>
    <li>To stop deliveries for a while instead, turn it off on its page.</li>
  </ul>
  <form method="post" action="${base}delete/" class="d-flex flex-wrap gap-2" id="confirm-form">
    ${csrfField(frame.csrfToken)}
    <input type="hidden" name="confirm" value="yes">
    <button type="submit" class="btn btn-danger">Delete the endpoint</button>
    <a class="btn btn-outline-secondary" href="${base}">Cancel</a>
  </form>
</div></div>`,
  );
}

export interface DeliveryPageModel extends WebhookSettings {
  endpoint: WebhookEndpoint;
  delivery: DeliveryRow;
  body: string;
  attempts: AttemptRow[];
  notice: string | null;
}

/** The body as sent, indented for reading (the signature covers the compact string). */
function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export function webhookDeliveryPage(frame: AdminFrame, model: DeliveryPageModel): SafeHtml {
  const { endpoint, delivery } = model;
  const base = `/admin/webhooks/${endpoint.id}/`;
  const dl = (term: string, value: SafeHtml | string) =>
    html`<dt class="col-sm-4 col-lg-3">${term}</dt><dd class="col-sm-8 col-lg-9">${value}</dd>`;
  return adminLayout(
    frame,
    `Delivery ${delivery.id}`,
    "webhooks",
    html`<nav aria-label="breadcrumb"><ol class="breadcrumb"><li class="breadcrumb-item"><a href="/admin/webhooks/">Webhooks</a></li><li class="breadcrumb-item"><a href="${base}">Endpoint ${endpoint.id}</a></li><li class="breadcrumb-item active" aria-current="page">Delivery ${delivery.id}</li></ol></nav>
<h1 class="h4 mb-3">Delivery ${delivery.id}: <code>${delivery.eventType}</code></h1>
${noticeOf(deliveryNotices, model.notice)}
${deliveriesOffNote(model)}
<div class="card shadow-sm mb-4"><div class="card-body">
  <dl class="row mb-3">
    ${dl("To", html`<a class="text-break" href="${base}">${endpoint.url}</a>`)}
    ${dl("Event id", html`<code class="text-break" id="event-id">${delivery.eventId}</code>`)}
    ${dl("Status", html`${deliveryBadge(delivery.status)}${delivery.manual ? html` <span class="badge text-bg-light border">manual</span>` : null}`)}
    ${dl("Attempts", String(delivery.attempts))}
    ${dl("Created", when(delivery.createdAt))}
    ${delivery.deliveredAt ? dl("Delivered", when(delivery.deliveredAt)) : null}
  </dl>
  <form method="post" action="${base}deliveries/${delivery.id}/resend/">
    ${csrfField(frame.csrfToken)}
    <button type="submit" class="btn btn-outline-primary" id="send-again">Send again</button>
  </form>
  <div class="form-text">A new delivery of the same event, with the same <code>webhook-id</code>: a receiver that already has it can
  tell it is a duplicate.</div>
</div></div>

<h2 class="h5">Body as sent</h2>
<p class="form-text mt-0">Indented here for reading; it is sent on one line, as signed.</p>
<pre class="bg-white border rounded p-3 outbox-text" id="delivery-body">${prettyBody(model.body)}</pre>

<h2 class="h5 mt-4" id="attempts">Attempts</h2>
${
  model.attempts.length === 0
    ? html`<p class="text-body-secondary" id="no-attempts">No attempt yet${
        delivery.status === "pending" ? ": the delivery waits for its first." : "."
      }</p>`
    : html`<ol class="list-unstyled mb-0" aria-labelledby="attempts">${model.attempts.map(
        (a, index) => html`<li class="card shadow-sm mb-3 attempt"><div class="card-body">
  <h3 class="h6 fw-semibold">Attempt ${index + 1} <span class="fw-normal text-body-secondary">${when(a.attemptedAt)}</span></h3>
  <dl class="row mb-2">
    ${dl("Answer", a.statusCode !== null ? html`<span class="font-monospace">${a.statusCode}</span>` : html`<span class="text-body-secondary">none</span>`)}
    ${dl("Took", `${a.durationMs.toLocaleString("en-US")} ms`)}
    ${a.error ? dl("Error", html`<span class="text-danger-emphasis text-break">${a.error}</span>`) : null}
  </dl>
  ${
    a.responseExcerpt === ""
      ? html`<p class="small text-body-secondary mb-0">The answer had no body.</p>`
      : html`<p class="small fw-semibold mb-1">Answer's body (its first 1 KiB)</p>
  <pre class="outbox-text bg-body-tertiary border rounded p-2 mb-0 small">${a.responseExcerpt}</pre>`
  }
</div></li>`,
      )}</ol>`
}`,
  );
}
