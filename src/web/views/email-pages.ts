// Notification settings and one-click unsubscribe pages.
import { type NotificationChoice, notificationChoiceLabels } from "../../email/messages.js";
import type { Preferences } from "../../email/preferences.js";
import { html, type SafeHtml } from "../html.js";
import { csrfField, layout } from "./layout.js";

const choices = Object.keys(notificationChoiceLabels) as NotificationChoice[];

/** The labels finish "Email me when …"; the unsubscribe pages speak to the reader, so they say "you". */
const toReader: Record<NotificationChoice, string> = {
  notify_friend_joined: "a friend joins through your link",
  notify_rewards: "you earn a reward",
  notify_review: "a held referral of yours is approved or rejected",
};

/** The address sentence sits in the card: on the grey body its link falls short of 4.5:1 contrast. */
export function preferencesPage(model: {
  csrfToken: string;
  username: string;
  isStaff: boolean;
  email: string | null;
  preferences: Preferences;
  saved: boolean;
}): SafeHtml {
  return layout(
    {
      title: "Email notifications",
      csrfToken: model.csrfToken,
      username: model.username,
      isStaff: model.isStaff,
    },
    html`<div class="row justify-content-center"><div class="col-md-8 col-lg-6">
<h1 class="h3 mb-3">Email notifications</h1>
${model.saved ? html`<div class="alert alert-success" role="status">Your choices are saved.</div>` : null}
<form method="post" action="/email/preferences/" class="card shadow-sm"><div class="card-body">
  ${csrfField(model.csrfToken)}
  <p>${model.email ? html`Messages go to <strong class="text-break">${model.email}</strong>.` : html`You have no confirmed email address yet, so nothing is sent. Add one on <a href="/">your dashboard</a>.`}</p>
  <fieldset>
    <legend class="h6">Email me when</legend>
    ${choices.map(
      (choice) => html`<div class="form-check mb-2">
      <input class="form-check-input" type="checkbox" name="${choice}" value="on" id="${choice}"${model.preferences[choice] ? html` checked` : null}>
      <label class="form-check-label" for="${choice}">${notificationChoiceLabels[choice]}</label>
    </div>`,
    )}
  </fieldset>
  <p class="small text-body-secondary">Messages about your account itself (confirming an address, resetting a password) are always sent.</p>
  <button type="submit" class="btn btn-primary">Save</button>
</div></form>
</div></div>`,
  );
}

export function unsubscribePage(model: {
  choice: NotificationChoice;
  done: boolean;
  action: string;
}): SafeHtml {
  const what = toReader[model.choice];
  return layout(
    { title: "Unsubscribe", csrfToken: "" },
    html`<div class="row justify-content-center"><div class="col-md-8 col-lg-6"><div class="card shadow-sm"><div class="card-body">
${
  model.done
    ? html`<h1 class="h4">You are unsubscribed</h1>
<p class="mb-0">We will not email you any more when ${what}. You can change this in your <a href="/email/preferences/">notification settings</a>.</p>`
    : html`<h1 class="h4">Stop these emails?</h1>
<p>You will no longer get an email when ${what}.</p>
<form method="post" action="${model.action}">
  <input type="hidden" name="List-Unsubscribe" value="One-Click">
  <button type="submit" class="btn btn-primary">Unsubscribe</button>
</form>`
}
</div></div></div></div>`,
  );
}

export function badUnsubscribePage(): SafeHtml {
  return layout(
    { title: "Unsubscribe", csrfToken: "" },
    html`<div class="row justify-content-center"><div class="col-md-8 col-lg-6"><div class="card shadow-sm"><div class="card-body">
<h1 class="h4">This link does not work</h1>
<p class="mb-0">It may have been copied incompletely. Log in and open your <a href="/email/preferences/">notification settings</a> instead.</p>
</div></div></div></div>`,
  );
}
