// The email pages in a real browser: the notification settings (no confirmed address, saved, the
// checkboxes kept as set), the unsubscribe link's three pages (confirm, done, a broken link) and the
// staff outbox (filtered by status, stacked on a phone, one message with its text, one without, and
// a reset link hidden from staff).
// Every page is checked with axe-core at desktop and phone width, must fit a 360 px phone, and is
// photographed at 375 and 1280 px.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { queryRows } from "../../src/db/connection.js";
import { enqueueEmail, keptMail, type MailDeps, markSent, recordFailure } from "../../src/email/outbox.js";
import { unsubscribeSigner } from "../../src/email/unsubscribe.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import {
  browserSkipReason,
  checkPage,
  clickAndLoad,
  ensureClientBuilt,
  openTestBrowser,
  submitForm,
  type TestBrowser,
} from "../support/browser.js";

const skip = browserSkipReason() ?? false;
const PASSWORD = "correct horse battery";
/** As with SMTP_URL set: the worker would send these; here nothing does, so they stay as written. */
const sentMail: MailDeps = { initialStatus: "pending", wake: () => {} };
/** Long enough to wrap on a phone: the stacked table and the message page must not scroll sideways. */
const LONG_ADDRESS = "a.very.long.mailbox.name.for.wrapping.tests@subdomain.example-mail-provider.test";

let t: TestApp;
let baseUrl: string;
let browser: TestBrowser;

/** A verified address, set directly: verification has its own tests. */
async function verify(username: string, address: string): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    t.deps.db,
    sql`UPDATE users SET email = ${address}, email_key = ${address} WHERE username = ${username} RETURNING id`,
  );
  return Number(rows[0]?.id);
}

before(async () => {
  if (skip) return;
  ensureClientBuilt();
  t = await createTestApp();
  await staffClient(t, "mail_staff");
  for (const name of ["mail_reader", "mail_unverified", "mail_leaver"]) await new Client(t.app).signUp(name);
  await verify("mail_reader", "reader@example.com");
  await verify("mail_leaver", LONG_ADDRESS);
  baseUrl = await t.app.listen({ port: 0, host: "127.0.0.1" });
  browser = await openTestBrowser();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await t?.close();
});

async function logIn(page: Page, username: string): Promise<void> {
  await page.goto(`${baseUrl}/login/`);
  await page.fill("#id_username", username);
  await page.fill("#id_password", PASSWORD);
  await clickAndLoad(page, "main button[type=submit]");
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? "").replace(/\s+/g, " ").trim();
}

async function checked(page: Page): Promise<Record<string, boolean>> {
  return {
    notify_friend_joined: await page.isChecked("#notify_friend_joined"),
    notify_rewards: await page.isChecked("#notify_rewards"),
    notify_review: await page.isChecked("#notify_review"),
  };
}

test("preferences: without a confirmed address the page says nothing is sent", { skip }, async () => {
  const page = await browser.newPage();
  await logIn(page, "mail_unverified");
  await page.goto(`${baseUrl}/email/preferences/`);
  assert.match(await text(page, "main"), /You have no confirmed email address yet, so nothing is sent\./);
  assert.equal(await page.getAttribute("main a[href='/']", "href"), "/");
  await checkPage(page, "email-preferences-no-address", { axe: true });
});

test("preferences: saving shows the saved state and keeps each checkbox as set", { skip }, async () => {
  const page = await browser.newPage();
  await logIn(page, "mail_reader");
  await page.goto(`${baseUrl}/email/preferences/`);
  assert.match(await text(page, "main"), /Messages go to reader@example\.com\./);
  assert.deepEqual(await checked(page), {
    notify_friend_joined: true,
    notify_rewards: true,
    notify_review: true,
  });
  assert.equal(await page.locator("[role=status]").count(), 0, "nothing saved yet");
  await checkPage(page, "email-preferences", { axe: true });

  await page.uncheck("#notify_friend_joined");
  await page.uncheck("#notify_review");
  assert.equal(await submitForm(page, "main button[type=submit]", "/email/preferences/"), 200);
  assert.equal(await text(page, "[role=status]"), "Your choices are saved.");
  const set = { notify_friend_joined: false, notify_rewards: true, notify_review: false };
  assert.deepEqual(await checked(page), set);
  await checkPage(page, "email-preferences-saved", { axe: true });

  // Stored, not only echoed: a fresh visit shows the same, without the saved note.
  await page.goto(`${baseUrl}/email/preferences/`);
  assert.deepEqual(await checked(page), set);
  assert.equal(await page.locator("[role=status]").count(), 0);
});

test("unsubscribe: the link asks first, the button turns that kind off, settings show it off", {
  skip,
}, async () => {
  const leaverId = await userIdOf(t.deps.db, "mail_leaver");
  const token = await unsubscribeSigner(t.deps.db).token(leaverId, "notify_rewards");
  const page = await browser.newPage();
  await logIn(page, "mail_leaver");

  await page.goto(`${baseUrl}/email/unsubscribe/?token=${encodeURIComponent(token)}`);
  assert.equal(await text(page, "h1"), "Stop these emails?");
  assert.match(await text(page, "main"), /You will no longer get an email when you earn a reward\./);
  await checkPage(page, "email-unsubscribe-confirm", { axe: true });

  assert.equal(await submitForm(page, "main button[type=submit]", "/email/unsubscribe/"), 200);
  assert.equal(await text(page, "h1"), "You are unsubscribed");
  assert.match(await text(page, "main"), /We will not email you any more when you earn a reward\./);
  await checkPage(page, "email-unsubscribe-done", { axe: true });

  await Promise.all([page.waitForURL(`${baseUrl}/email/preferences/`), page.click("main a")]);
  assert.deepEqual(await checked(page), {
    notify_friend_joined: true,
    notify_rewards: false,
    notify_review: true,
  });
});

test("unsubscribe: a broken link says so and points to the settings", { skip }, async () => {
  const page = await browser.newPage(375);
  const leaverId = await userIdOf(t.deps.db, "mail_leaver");
  const token = await unsubscribeSigner(t.deps.db).token(leaverId, "notify_review");
  // Cut short, as a mail program that wraps long lines might leave it.
  const response = await page.goto(
    `${baseUrl}/email/unsubscribe/?token=${encodeURIComponent(token.slice(0, -4))}`,
  );
  assert.equal(response?.status(), 404);
  assert.equal(await text(page, "h1"), "This link does not work");
  assert.equal(await page.getAttribute("main a", "href"), "/email/preferences/");
  await checkPage(page, "email-unsubscribe-bad-link", { axe: true });
});

test("outbox: staff filter the messages by status and read one, on a phone and a desktop", {
  skip,
}, async () => {
  const db = t.deps.db;
  const readerId = await userIdOf(db, "mail_reader");
  const leaverId = await userIdOf(db, "mail_leaver");
  const origin = { origin: "http://refer.test" };
  const rewardId = await enqueueEmail(db, keptMail, {
    kind: "reward_earned",
    userId: leaverId,
    to: LONG_ADDRESS,
    params: { username: "mail_leaver", amount_cents: 1000, ...origin },
  });
  await enqueueEmail(db, keptMail, {
    kind: "friend_joined",
    userId: readerId,
    to: "reader@example.com",
    params: { username: "mail_reader", friend: "mail_leaver", ...origin },
  });
  await enqueueEmail(db, keptMail, {
    kind: "verify_email",
    userId: null,
    to: "someone.new@example.com",
    params: { username: "someone", token: "verify-token-1", ...origin },
  });

  const page = await browser.newPage(375);
  await logIn(page, "mail_staff");
  await page.goto(`${baseUrl}/admin/outbox/?status=failed`);
  assert.equal(
    await text(page, "main p.text-body-secondary:last-of-type"),
    "No messages with this status yet.",
  );
  await checkPage(page, "email-outbox-empty-filter", { axe: true });

  // The other statuses, as the worker leaves them when SMTP_URL is set.
  const resetId = await enqueueEmail(db, sentMail, {
    kind: "password_reset",
    userId: readerId,
    to: "reader@example.com",
    params: { username: "mail_reader", token: "reset-token-1", ...origin },
  });
  const sentId = await enqueueEmail(db, sentMail, {
    kind: "referral_approved",
    userId: readerId,
    to: "reader@example.com",
    params: { username: "mail_reader", amount_cents: 500, ...origin },
  });
  await markSent(db, sentId);
  const failedId = await enqueueEmail(db, sentMail, {
    kind: "referral_rejected",
    userId: leaverId,
    to: LONG_ADDRESS,
    params: { username: "mail_leaver", reason: "Same card as the inviter", ...origin },
  });
  await recordFailure(
    db,
    failedId,
    "550 5.1.1 <mailbox-unavailable@example.test>: Recipient address rejected",
    1,
  );

  await page.goto(`${baseUrl}/admin/outbox/`);
  const rows = () => page.locator("table tbody tr");
  const statuses = () => page.locator("table tbody td[data-label=Status] .badge").allTextContents();
  assert.equal(await rows().count(), 6);
  // One line per cell on a desktop: the time (UTC, as on the other staff pages) and the kind.
  assert.match(
    await text(page, "table tbody tr:first-child td[data-label=Written]"),
    /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/,
  );
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const label of ["Written", "Message"]) {
    const lines = await page
      .locator(`table tbody td[data-label=${label}] > *`)
      .evaluateAll((cells) => cells.map((cell) => cell.getClientRects().length));
    assert.deepEqual(new Set(lines), new Set([1]), `${label} cells wrap at 1280 px`);
  }
  await page.setViewportSize({ width: 375, height: 900 });
  assert.equal(await text(page, "[aria-current=page].btn"), "All (6)");
  assert.match(await text(page, "main"), /No SMTP server is configured/);
  await checkPage(page, "email-outbox", { axe: true });

  await clickAndLoad(page, "text=Failed (1)");
  assert.equal(new URL(page.url()).search, "?status=failed");
  assert.deepEqual(await statuses(), ["failed"]);
  assert.match(await text(page, "table tbody"), /Recipient address rejected/);
  assert.equal(await text(page, "[aria-current=page].btn"), "Failed (1)");
  await checkPage(page, "email-outbox-failed", { axe: true });

  await clickAndLoad(page, "text=Kept (3)");
  assert.deepEqual(await statuses(), ["kept", "kept", "kept"]);
  assert.deepEqual(await page.locator("table tbody td[data-label=Message]").allTextContents(), [
    "Confirm address",
    "Friend joined",
    "Reward earned",
  ]);

  await clickAndLoad(page, "text=Reward earned");
  assert.equal(new URL(page.url()).pathname, `/admin/outbox/${rewardId}/`);
  assert.equal(await text(page, "main h2"), "You earned $10.00");
  // innerText follows the CSS: the paragraphs stay apart as in a mail program, not run into one line.
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is under test
  const body = await page.locator("main pre").innerText();
  assert.match(body, /^Hello mail_leaver,\n\nFriends keep joining through your link/);
  assert.match(body, /\n\nSee your balance: http:\/\/refer\.test\/$/);
  assert.equal(await text(page, "main dl dd:nth-of-type(2)"), "kept", "never tried: no attempts");
  assert.match(await text(page, "main dl dd:nth-of-type(3)"), /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  await checkPage(page, "email-outbox-message", { axe: true });

  // Sent: its values are gone, only the envelope is left.
  await page.goto(`${baseUrl}/admin/outbox/${sentId}/`);
  assert.equal(await page.locator("main pre").count(), 0);
  assert.match(await text(page, "main"), /Its content is not kept once it is sent or given up/);
  assert.equal(await text(page, "main dl dd:nth-of-type(2)"), "sent after 1 attempt");
  await checkPage(page, "email-outbox-message-sent", { axe: true });

  // A reset link on its way to an inbox: staff read the message, not the link's token.
  await page.goto(`${baseUrl}/admin/outbox/${resetId}/`);
  assert.match(await text(page, "main .alert"), /^The reset link is hidden/);
  assert.match(await text(page, "main pre"), /password\/reset\/\?token=\(hidden\)/);
  assert.doesNotMatch(await text(page, "main"), /reset-token-1/);
  await checkPage(page, "email-outbox-message-reset-hidden", { axe: true });
  await clickAndLoad(page, ".breadcrumb a");
  assert.equal(new URL(page.url()).pathname, "/admin/outbox/");
});
