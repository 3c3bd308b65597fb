// The account's email address: its card on the dashboard, the page that adds or changes it, and the
// page a verification link opens (a Confirm button: opening the link alone changes nothing).
import type { SessionUser } from "../../accounts/sessions.js";
import { EMAIL_MAX_LENGTH } from "../../email/address.js";
import type { VerificationLink } from "../../email/verification.js";
import type { EmailState } from "../../email/verification-store.js";
import { dayTimeText } from "../../format.js";
import { html, type SafeHtml } from "../html.js";
import { card } from "./auth-pages.js";
import { csrfField, formErrors, formField, layout } from "./layout.js";

/** What the dashboard and the address page say about the account's addresses. */
export interface EmailSectionModel {
  email: string | null;
  /** The address waiting for confirmation, and whether its link has expired. */
  pending: { address: string; expired: boolean } | null;
}

/** The account's addresses, from the session's row and, when one waits, its link's expiry. */
export function emailSection(
  user: Pick<SessionUser, "email" | "pendingEmail">,
  state: Pick<EmailState, "pendingExpiresAt"> | null,
  now: number,
): EmailSectionModel {
  const expiresAt = state?.pendingExpiresAt ?? null;
  return {
    email: user.email,
    pending:
      user.pendingEmail === null
        ? null
        : { address: user.pendingEmail, expired: expiresAt === null || expiresAt.getTime() <= now },
  };
}

/**
 * The state in words: the verified address, and the one waiting for confirmation with a button that
 * sends its link again (a new link: the one before stops working).
 */
function stateWords(model: EmailSectionModel, csrfToken: string): SafeHtml {
  const verified = model.email
    ? html`<p class="mb-2 text-break" id="email-verified">Your address: <strong>${model.email}</strong>
      <span class="badge text-bg-success">verified</span></p>`
    : model.pending
      ? null
      : html`<p class="mb-2" id="email-none">No address yet. Add one to be able to reset a forgotten password.</p>`;
  const pending = model.pending;
  if (!pending) return html`${verified}`;
  const resend = html`<form method="post" action="/email/" class="mt-2">
    ${csrfField(csrfToken)}
    <input type="hidden" name="email" value="${pending.address}">
    <button type="submit" class="btn btn-sm btn-outline-dark" id="email-resend">Send the link again</button>
  </form>`;
  const waiting = pending.expired
    ? html`<div class="alert alert-warning mb-3 text-break" role="status" id="email-pending"><p class="mb-0">The link sent to
      <strong>${pending.address}</strong> has expired: send it again to confirm the address.</p>${resend}</div>`
    : html`<div class="alert alert-info mb-3 text-break" role="status" id="email-pending"><p class="mb-0">Waiting for
      confirmation: sent to <strong>${pending.address}</strong>. Open the link in that message within 48 hours.${
        model.email ? html` Until then, ${model.email} stays your address.` : null
      }</p>${resend}</div>`;
  return html`${verified}${waiting}`;
}

function addressForm(
  csrfToken: string,
  model: EmailSectionModel,
  errors: string[] | undefined,
  value = "",
): SafeHtml {
  const label = model.email ? "New address" : model.pending ? "Another address" : "Email address";
  return html`<form method="post" action="/email/" novalidate>
  ${csrfField(csrfToken)}
  ${formField({
    name: "email",
    label,
    type: "email",
    value,
    autocomplete: "email",
    errors,
    maxLength: EMAIL_MAX_LENGTH,
    autofocus: errors !== undefined,
    help: "We send a link to this address; it is used once you open it.",
  })}
  <button type="submit" class="btn btn-primary">Send a confirmation link</button>
</form>`;
}

/** The dashboard's card. */
export function emailCard(csrfToken: string, model: EmailSectionModel): SafeHtml {
  return html`<section class="card shadow-sm mt-4" aria-labelledby="email-heading" id="email">
  <div class="card-body">
    <h2 class="h5" id="email-heading">Email address</h2>
    <div class="row"><div class="col-12 col-md-9 col-xl-7">
      ${stateWords(model, csrfToken)}
      ${addressForm(csrfToken, model, undefined)}
    </div></div>
  </div>
</section>`;
}

export interface EmailPageModel {
  csrfToken: string;
  user: Pick<SessionUser, "username" | "isStaff">;
  section: EmailSectionModel;
  /** A link was just sent. */
  sent?: boolean;
  typed?: string;
  errors?: string[];
  throttledSeconds?: number;
}

/** /email/: the address form on a page of its own (after sending, and to show its errors). */
export function emailPage(model: EmailPageModel): SafeHtml {
  return layout(
    {
      title: "Email address",
      csrfToken: model.csrfToken,
      username: model.user.username,
      isStaff: model.user.isStaff,
    },
    card(
      "Email address",
      html`${
        model.sent && model.section.pending
          ? html`<div class="alert alert-success text-break" role="status" id="email-sent">We sent a link to
          <strong>${model.section.pending.address}</strong>. Open it to confirm the address.</div>`
          : null
      }${
        model.throttledSeconds !== undefined
          ? html`<div class="alert alert-warning" role="alert" id="email-throttled">Too many messages were sent for
          this account or to this address lately. Try again later.</div>`
          : null
      }${model.sent ? null : stateWords(model.section, model.csrfToken)}
      ${addressForm(model.csrfToken, model.section, model.errors, model.typed)}
      <p class="mt-3 mb-0"><a href="/">Back to your dashboard</a></p>`,
    ),
  );
}

/** /email/verify/?token=: what the link does, and the button that does it. */
export function verifyPage(model: {
  csrfToken: string;
  token: string;
  link: VerificationLink;
  user: Pick<SessionUser, "username" | "isStaff"> | null;
}): SafeHtml {
  const { link } = model;
  const frame = {
    csrfToken: model.csrfToken,
    username: model.user?.username ?? null,
    isStaff: model.user?.isStaff ?? false,
  };
  const home = html`<a class="btn btn-outline-primary" href="/">${model.user ? "Go to your dashboard" : "Log in"}</a>`;
  switch (link.status) {
    case "valid":
      return layout(
        { ...frame, title: "Confirm your email address" },
        card(
          "Confirm your email address",
          html`<p class="text-break">Confirm that <strong id="verify-email">${link.email}</strong> is the address of the
          account <strong>${link.username}</strong>.</p>
          <form method="post" action="/email/verify/">
            ${csrfField(model.csrfToken)}
            <input type="hidden" name="token" value="${model.token}">
            <button type="submit" class="btn btn-primary w-100" id="verify-confirm">Confirm my address</button>
          </form>`,
        ),
      );
    case "confirmed":
      return layout(
        { ...frame, title: "Address confirmed" },
        card(
          "Address confirmed",
          html`<p class="alert alert-success text-break" role="status" id="verify-done"><strong>${link.email}</strong> is
          your confirmed address.</p>${home}`,
        ),
      );
    case "taken":
      return layout(
        { ...frame, title: "Address already in use" },
        card(
          "Address already in use",
          html`<p class="alert alert-warning text-break" role="alert" id="verify-taken"><strong>${link.email}</strong> was
          confirmed by another account first, so it cannot be this account's too. Add another address from
          your dashboard.</p>${home}`,
        ),
      );
    case "invalid":
      return layout(
        { ...frame, title: "This link does not work" },
        card(
          "This link does not work",
          html`<p class="alert alert-warning" role="alert" id="verify-invalid">The link was used already, has expired
          (a link works for 48 hours), or a newer message replaced it.</p>
          <p>Send a new link from your dashboard, under “Email address”.</p>${home}`,
        ),
      );
  }
}

/** When a link was sent and until when it works, for staff. */
export function linkTimes(state: Pick<EmailState, "pendingSentAt" | "pendingExpiresAt">): string {
  if (!state.pendingSentAt || !state.pendingExpiresAt) return "";
  return `sent ${dayTimeText(state.pendingSentAt)}, works until ${dayTimeText(state.pendingExpiresAt)}`;
}

export { formErrors };
