// Password recovery's pages: the "forgot your password?" form and its answer (the same whether or
// not the address is known), the new-password form a link opens, and a link that no longer works.

import { EMAIL_MAX_LENGTH } from "../../email/address.js";
import type { FieldErrors } from "../../errors.js";
import { html, type SafeHtml } from "../html.js";
import { card, newPasswordFields } from "./auth-pages.js";
import { csrfField, formErrors, formField, layout } from "./layout.js";

/** Who is logged in, for the menu (null: nobody). */
type MenuUser = { username: string; isStaff: boolean } | null;

function frame(title: string, csrfToken: string, user: MenuUser, scripts?: string[]) {
  return { title, csrfToken, username: user?.username ?? null, isStaff: user?.isStaff ?? false, scripts };
}

export function forgotPage(model: {
  csrfToken: string;
  user: MenuUser;
  email?: string;
  errors?: FieldErrors;
}): SafeHtml {
  const errors = model.errors ?? {};
  return layout(
    frame("Forgot your password?", model.csrfToken, model.user),
    card(
      "Forgot your password?",
      html`<p>Enter the email address you confirmed for your account. We will send you a link to choose a new
      password.</p>
      ${formErrors(errors.__all__)}
      <form method="post" action="/password/forgot/" novalidate>
        ${csrfField(model.csrfToken)}
        ${formField({
          name: "email",
          label: "Email address",
          type: "email",
          value: model.email ?? "",
          autocomplete: "email",
          errors: errors.email,
          autofocus: true,
          maxLength: EMAIL_MAX_LENGTH,
        })}
        <button type="submit" class="btn btn-primary w-100">Send me a link</button>
      </form>
      <p class="mt-3 mb-0 text-center"><a href="/login/">Back to logging in</a></p>`,
    ),
  );
}

/** The answer to every well-formed address: it never says whether the address has an account. */
export function forgotSentPage(model: { csrfToken: string; user: MenuUser; email: string }): SafeHtml {
  return layout(
    frame("Check your email", model.csrfToken, model.user),
    card(
      "Check your email",
      html`<div class="alert alert-info text-break" role="status" id="forgot-sent">If an account has
      <strong>${model.email}</strong> as its confirmed address, we sent a link to it. The link works once, for
      one hour.</div>
      <p>Nothing arrived after a few minutes? Look in your spam folder, check that this is the address you
      confirmed, or <a href="/password/forgot/">ask again</a>.</p>
      <p>An address that was never confirmed gets no message: ask the programme's staff for help.</p>
      <p class="mb-0 text-center"><a href="/login/">Back to logging in</a></p>`,
    ),
  );
}

export function resetPage(model: {
  csrfToken: string;
  user: MenuUser;
  token: string;
  username: string;
  errors?: FieldErrors;
}): SafeHtml {
  const errors = model.errors ?? {};
  const focus = errors.password2?.length && !errors.password1?.length ? "password2" : "password1";
  return layout(
    frame("Choose a new password", model.csrfToken, model.user, ["/static/client/password-meter.js"]),
    card(
      "Choose a new password",
      html`${formErrors(errors.__all__)}
      <form method="post" action="/password/reset/" novalidate>
        ${csrfField(model.csrfToken)}
        <input type="hidden" name="token" value="${model.token}">
        ${formField({
          name: "username",
          label: "Account",
          type: "text",
          value: model.username,
          autocomplete: "username",
          readOnly: true,
          required: false,
        })}
        ${newPasswordFields(errors, focus, { password: "New password", confirmation: "New password confirmation" })}
        <button type="submit" class="btn btn-primary w-100" id="reset-submit">Set my new password</button>
      </form>
      <p class="mt-3 mb-0 small text-body-secondary">Every device logged in to this account is logged out; this
      one stays logged in.</p>`,
    ),
  );
}

export function resetInvalidPage(model: { csrfToken: string; user: MenuUser }): SafeHtml {
  return layout(
    frame("This link does not work", model.csrfToken, model.user),
    card(
      "This link does not work",
      html`<p class="alert alert-warning" role="alert" id="reset-invalid">This password reset link was used already
      or has expired: a link works once, for one hour.</p>
      <a class="btn btn-primary" href="/password/forgot/">Ask for a new link</a>`,
    ),
  );
}
