// Deleting one's account: what it does, the password that confirms it, and the page after.
import { formatDollars } from "../../format.js";
import { html, type SafeHtml } from "../html.js";
import { card } from "./auth-pages.js";
import { csrfField, formField, layout } from "./layout.js";

export function deleteAccountPage(model: {
  csrfToken: string;
  user: { username: string; isStaff: boolean; balanceCents: number; pendingCents: number };
  errors?: string[];
  throttled?: boolean;
}): SafeHtml {
  const { user } = model;
  const credit = user.balanceCents + user.pendingCents;
  return layout(
    {
      title: "Delete your account",
      csrfToken: model.csrfToken,
      username: user.username,
      isStaff: user.isStaff,
    },
    card(
      "Delete your account",
      html`${
        model.throttled
          ? html`<div class="alert alert-warning" role="alert" id="delete-throttled">Too many wrong passwords. Try again
          later.</div>`
          : null
      }<p>Deleting <strong>${user.username}</strong> cannot be undone:</p>
      <ul id="delete-consequences">
        <li>Your username, email address, sessions and devices are erased. The name becomes free for someone else.</li>
        <li>Your referral link stops working at once.</li>
        <li>${
          credit > 0
            ? html`Your ${formatDollars(credit)} of credit is lost: it stays in the programme's accounts, with no name on it.`
            : "Your credit history stays in the programme's accounts, with no name on it."
        }</li>
      </ul>
      <form method="post" action="/account/delete/" novalidate>
        ${csrfField(model.csrfToken)}
        ${formField({
          name: "password",
          label: "Your password, to confirm",
          type: "password",
          autocomplete: "current-password",
          errors: model.errors,
          autofocus: true,
        })}
        <div class="d-flex flex-wrap gap-2">
          <button type="submit" class="btn btn-danger" id="delete-confirm">Delete my account</button>
          <a class="btn btn-outline-secondary" href="/">Cancel</a>
        </div>
      </form>`,
    ),
  );
}

export function accountDeletedPage(csrfToken: string): SafeHtml {
  return layout(
    { title: "Account deleted", csrfToken },
    card(
      "Your account is deleted",
      html`<p class="alert alert-success" role="status" id="account-deleted">Your account and your personal data are
      erased, and you are logged out.</p>
      <a class="btn btn-outline-primary" href="/signup/">Create a new account</a>`,
    ),
  );
}
