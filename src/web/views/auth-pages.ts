// The sign-up, login and logged-out pages.

import { EMAIL_MAX_LENGTH } from "../../email/address.js";
import type { FieldErrors } from "../../errors.js";
import { formatDollars, sessionCount, waitWords } from "../../format.js";
import { html, type SafeHtml } from "../html.js";
import { csrfField, formErrors, formField, layout, type MetaTag } from "./layout.js";

/** A page's one card, centred: the sign-up, login and account pages. */
export function card(title: string, body: SafeHtml): SafeHtml {
  return html`<div class="row justify-content-center">
  <div class="col-12 col-sm-10 col-md-7 col-lg-5">
    <div class="card shadow-sm">
      <div class="card-body p-4">
        <h1 class="h3 card-title mb-3">${title}</h1>
        ${body}
      </div>
    </div>
  </div>
</div>`;
}

/**
 * A new password and its confirmation, with the rules and the strength meter that
 * client/password-meter.ts fills in (by these ids): the sign-up form and the reset form.
 */
export function newPasswordFields(
  errors: FieldErrors,
  focus: string | undefined,
  labels: { password: string; confirmation: string },
): SafeHtml {
  return html`${formField({
    name: "password1",
    label: labels.password,
    type: "password",
    autocomplete: "new-password",
    errors: errors.password1,
    autofocus: focus === "password1",
    help: html`<span id="password-rules">At least 8 characters, not entirely numeric, not a common password, not like your username.</span>
          <span class="d-block mt-1" id="password-strength" aria-live="polite"></span>`,
  })}
        <meter class="password-meter w-100 mb-3" id="password-meter" min="0" max="4" low="2" high="3" optimum="4" value="0"
          aria-label="Password strength" hidden></meter>
        ${formField({
          name: "password2",
          label: labels.confirmation,
          type: "password",
          autocomplete: "new-password",
          errors: errors.password2,
          autofocus: focus === "password2",
          help: "Enter the same password as before, for verification.",
        })}`;
}

export interface SignupPageModel {
  csrfToken: string;
  referralToken: string | null;
  /** Set only when the token belongs to an active user. */
  inviterUsername: string | null;
  /** A link was followed, but it is no valid user's: the person can still sign up. */
  invalidLink?: boolean;
  inviteeRewardCents: number;
  username?: string;
  email?: string;
  errors?: FieldErrors;
  /**
   * Someone logged in opened a referral link: they are told they have an account (the form stays,
   * for someone else on the same computer). `ownLink`: the link is their own.
   */
  signedIn?: { username: string; isStaff: boolean; ownLink: boolean } | null;
  /** The link preview's tags (views/share.ts), set only for a valid link. */
  preview?: MetaTag[];
  /** What credit can be used for, as staff wrote it; empty or absent shows nothing. */
  creditUse?: string;
}

/** The notice a logged-in person sees on a referral link: they have an account already. */
function signedInNotice(signedIn: NonNullable<SignupPageModel["signedIn"]>): SafeHtml {
  return html`<div class="alert alert-info" role="status" id="already-signed-in">${
    signedIn.ownLink
      ? html`This is your own invitation link, <strong>${signedIn.username}</strong>: share it with friends.`
      : html`You already have an account: you are logged in as <strong>${signedIn.username}</strong>.`
  } <a href="/" class="alert-link">Go to your dashboard</a>.
  <span class="d-block small mt-1">Someone else on this computer? They can create their own account below; it logs
  you out.</span></div>`;
}

export function signupPage(model: SignupPageModel): SafeHtml {
  const errors = model.errors ?? {};
  const action = model.referralToken ? `/signup/?ref=${encodeURIComponent(model.referralToken)}` : "/signup/";
  // The cursor starts in the first field to fix, or in the username.
  const focus = ["username", "email", "password1", "password2"].find((f) => errors[f]?.length) ?? "username";
  return layout(
    {
      title: "Sign up",
      csrfToken: model.csrfToken,
      scripts: ["/static/client/password-meter.js"],
      username: model.signedIn?.username ?? null,
      isStaff: model.signedIn?.isStaff ?? false,
      meta: model.preview,
    },
    card(
      "Create your account",
      html`${model.signedIn ? signedInNotice(model.signedIn) : null}${
        model.inviterUsername
          ? html`<div class="alert alert-success" role="status"><strong>${model.inviterUsername}</strong> invited you: you get
          ${formatDollars(model.inviteeRewardCents)} when you join.</div>`
          : model.invalidLink
            ? html`<div class="alert alert-warning" role="status" id="invalid-link">This invitation link is not valid: it
          may be mistyped, or its owner's account is closed. You can still sign up, without the welcome credit.</div>`
            : null
      }
      ${model.creditUse ? html`<p class="small text-body-secondary" id="credit-use">${model.creditUse}</p>` : null}
      ${formErrors(errors.__all__)}
      <form method="post" action="${action}" novalidate>
        ${csrfField(model.csrfToken)}
        ${model.referralToken ? html`<input type="hidden" name="ref" value="${model.referralToken}">` : null}
        ${formField({
          name: "username",
          label: "Username",
          type: "text",
          value: model.username ?? "",
          autocomplete: "username",
          errors: errors.username,
          autofocus: focus === "username",
          maxLength: 150,
          help: "150 characters or fewer. Letters, digits and @/./+/-/_ only.",
        })}
        ${formField({
          name: "email",
          label: "Email address (optional)",
          type: "email",
          value: model.email ?? "",
          autocomplete: "email",
          errors: errors.email,
          autofocus: focus === "email",
          maxLength: EMAIL_MAX_LENGTH,
          required: false,
          help: "We send a link to confirm it; until then it is used for nothing. With it you can reset a forgotten password.",
        })}
        ${newPasswordFields(errors, focus, { password: "Password", confirmation: "Password confirmation" })}
        <button type="submit" class="btn btn-primary w-100">Sign up</button>
      </form>
      <p class="mt-3 mb-0 text-center">Already have an account? <a href="/login/">Log in</a></p>`,
    ),
  );
}

export interface LoginPageModel {
  csrfToken: string;
  next: string | null;
  username?: string;
  errors?: FieldErrors;
  /** Too many failed attempts: the seconds until the next try can succeed (the Retry-After). */
  throttledSeconds?: number;
}

export function loginPage(model: LoginPageModel): SafeHtml {
  const errors = model.errors ?? {};
  const action = model.next ? `/login/?next=${encodeURIComponent(model.next)}` : "/login/";
  const throttled = model.throttledSeconds !== undefined;
  return layout(
    { title: throttled ? "Too many attempts" : "Log in", csrfToken: model.csrfToken },
    card(
      "Log in",
      html`${
        throttled
          ? html`<div class="alert alert-warning" role="alert" id="login-throttled">Too many failed attempts. Try again in
          ${waitWords(model.throttledSeconds ?? 0)}.</div>`
          : null
      }${formErrors(errors.__all__)}
      <form method="post" action="${action}" novalidate>
        ${csrfField(model.csrfToken)}
        ${model.next ? html`<input type="hidden" name="next" value="${model.next}">` : null}
        ${formField({
          name: "username",
          label: "Username",
          type: "text",
          value: model.username ?? "",
          autocomplete: "username",
          errors: errors.username,
          autofocus: !throttled,
        })}
        ${formField({
          name: "password",
          label: "Password",
          type: "password",
          autocomplete: "current-password",
          errors: errors.password,
        })}
        <button type="submit" class="btn btn-primary w-100">Log in</button>
      </form>
      <p class="mt-3 mb-0 text-center"><a href="/password/forgot/" id="forgot-password">Forgot your password?</a></p>
      <p class="mt-2 mb-0 text-center">New here? <a href="/signup/">Create an account</a></p>`,
    ),
  );
}

/** After logging out; after "log out on every device", how many sessions that ended (this one among them). */
export function loggedOutPage(csrfToken: string, sessionsEnded?: number): SafeHtml {
  return layout(
    { title: "Logged out", csrfToken },
    card(
      "You are logged out",
      html`${
        sessionsEnded === undefined
          ? null
          : html`<p class="alert alert-success" role="status" id="sessions-ended">You were logged out of
          ${sessionCount(sessionsEnded)}${sessionsEnded > 1 ? ", on every device" : ""}.</p>`
      }<p>Thanks for spending some quality time with us today.</p>
      <a class="btn btn-primary" href="/login/">Log in again</a>`,
    ),
  );
}

export interface ErrorPageModel {
  csrfToken: string;
  status: number;
  title: string;
  message: string;
  /** Who is logged in, for the menu: null when nobody (or unknown). */
  user?: { username: string; isStaff: boolean } | null;
}

export function errorPage(model: ErrorPageModel): SafeHtml {
  const { csrfToken, status, title, message, user } = model;
  return layout(
    { title, csrfToken, username: user?.username ?? null, isStaff: user?.isStaff ?? false },
    card(
      title,
      html`<p class="mb-3">${message}</p><p class="text-body-secondary small mb-3">Status ${status}</p>
      <a class="btn btn-outline-primary" href="/">${user ? "Back to your dashboard" : "Back to the start"}</a>`,
    ),
  );
}
