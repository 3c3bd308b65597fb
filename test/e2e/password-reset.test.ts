// Password recovery in a real browser, with the message from a real SMTP server: "Forgot your
// password?" on the login page → the message → its link → a new password (with the sign-up's meter)
// → logged in, and the account's other sessions ended. Then the pages around it: the link used again,
// confirming an address, the address page, the dashboard's card, deleting an account, and what staff
// see of addresses and deleted accounts. Each page is
// checked with axe-core, must fit a phone without sideways scrolling, and is photographed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { createOrPromoteStaff } from "../../src/admin/staff.js";
import { userIdOf } from "../support/admin.js";
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
import { linkIn, tokenInLink } from "../support/email.js";
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from "../support/smtp.js";

const skip = browserSkipReason() ?? false;
const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "violet harbour 1987 kite";

let smtp: TestSmtpServer;
let t: TestApp;
let baseUrl: string;
let browser: TestBrowser;
const read = new Set<ReceivedMail>();

before(async () => {
  if (skip) return;
  ensureClientBuilt();
  smtp = await startSmtpServer();
  t = await createTestApp({ SMTP_URL: smtp.url });
  baseUrl = await t.app.listen({ port: 0, host: "127.0.0.1" });
  browser = await openTestBrowser();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await t?.close();
  await smtp?.close();
});

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? "").replace(/\s+/g, " ").trim();
}

/** The next unread message to this address with this subject, handed over by the app at once. */
async function nextMail(to: string, subject: string): Promise<ReceivedMail> {
  await t.app.sendPendingEmail();
  const mail = await smtp.waitFor((m) => m.to === to && m.parsed.subject === subject && !read.has(m));
  read.add(mail);
  return mail;
}

async function logIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/login/`);
  await page.fill("#id_username", username);
  await page.fill("#id_password", password);
  await submitForm(page, "main button[type=submit]", "/login/");
}

/** Signs up with an address and confirms it through the link that arrived (over inject: no browser). */
async function verifiedUser(username: string, email: string): Promise<void> {
  const client = new Client(t.app);
  await client.postJson("/signup/", { username, password1: PASSWORD, password2: PASSWORD, email });
  const link = linkIn(await nextMail(email, "Confirm your email address"), "/email/verify/");
  assert.equal((await client.postJson("/email/verify/", { token: tokenInLink(link) })).statusCode, 200);
}

test("forgot → the message → its link → a new password → logged in, and the old sessions ended", {
  skip,
}, async () => {
  await verifiedUser("e2e_rosa", "rosa@example.com");
  const laptop = await browser.newPage();
  await logIn(laptop, "e2e_rosa");
  assert.equal(new URL(laptop.url()).pathname, "/");
  const api = new Client(t.app);
  assert.equal((await api.logIn("e2e_rosa")).statusCode, 200);

  const page = await browser.newPage(375);
  await page.goto(`${baseUrl}/login/`);
  await clickAndLoad(page, "#forgot-password");
  assert.equal(new URL(page.url()).pathname, "/password/forgot/");
  await checkPage(page, "reset-forgot-form");
  await page.fill("#id_email", "rosa@example.com");
  await submitForm(page, "main button[type=submit]", "/password/forgot/");
  assert.match(
    await text(page, "#forgot-sent"),
    /If an account has rosa@example\.com as its confirmed address/,
  );
  await checkPage(page, "reset-forgot-sent");

  const mail = await nextMail("rosa@example.com", "Reset your password");
  const link = `${baseUrl}${linkIn(mail, "/password/reset/")}`;
  assert.match(mail.parsed.text ?? "", new RegExp(link.replace(/[.?/]/g, "\\$&")));
  await page.goto(link);
  assert.equal(await page.inputValue("#id_username"), "e2e_rosa");
  await page.fill("#id_password1", "e2e_rosa");
  // The sign-up's meter, with the sign-up's rules (this one is like the username).
  await page.waitForSelector("#password-strength.text-danger");
  assert.match(await text(page, "#password-strength"), /too similar to the username/);
  await page.fill("#id_password1", NEW_PASSWORD);
  await page.waitForSelector("#password-strength.text-success");
  await page.fill("#id_password2", NEW_PASSWORD);
  await checkPage(page, "reset-new-password");
  await submitForm(page, "#reset-submit", "/password/reset/");
  assert.equal(new URL(page.url()).pathname, "/");
  assert.equal(await text(page, "#nav-username"), "Logged in as e2e_rosa");
  assert.match(await text(page, "#email-verified"), /rosa@example\.com verified/);
  await checkPage(page, "reset-dashboard-after");

  // The laptop's session and the program's ended with the reset.
  await laptop.goto(`${baseUrl}/`);
  assert.equal(new URL(laptop.url()).pathname, "/login/");
  assert.equal((await api.get("/", { accept: "application/json" })).statusCode, 401);
  // The link worked once.
  await page.goto(link);
  assert.match(await text(page, "#reset-invalid"), /used already or has expired/);
  await checkPage(page, "reset-link-used");
  // The new password logs in elsewhere.
  const again = await browser.newPage();
  await logIn(again, "e2e_rosa", NEW_PASSWORD);
  assert.equal(new URL(again.url()).pathname, "/");
});

test("an address added from the dashboard, confirmed through the page its link opens", { skip }, async () => {
  await new Client(t.app).signUp("e2e_otto");
  const page = await browser.newPage(375);
  await logIn(page, "e2e_otto");
  assert.match(await text(page, "#email-none"), /No address yet/);
  await checkPage(page, "email-dashboard-none");
  await page.fill("#id_email", "otto@example.com");
  await submitForm(page, "#email button[type=submit]", "/email/");
  assert.equal(new URL(page.url()).pathname, "/email/");
  assert.match(await text(page, "#email-sent"), /We sent a link to otto@example\.com/);
  await checkPage(page, "email-address-sent");
  // A malformed address: the page again, with the message beside the field.
  await page.fill("#id_email", "otto@");
  await submitForm(page, "main form[action='/email/'] button.btn-primary", "/email/");
  assert.match(await text(page, "#id_email_errors"), /Enter a valid email address\./);
  await checkPage(page, "email-address-error");
  await page.goto(`${baseUrl}/`);
  assert.match(await text(page, "#email-pending"), /Waiting for confirmation: sent to otto@example\.com/);
  await checkPage(page, "email-dashboard-pending");

  const link = `${baseUrl}${linkIn(await nextMail("otto@example.com", "Confirm your email address"), "/email/verify/")}`;
  // Opened on another device, not logged in: the page asks before it confirms.
  const phone = await browser.newPage(375);
  await phone.goto(link);
  assert.match(
    await text(phone, "main"),
    /Confirm that otto@example\.com is the address of the account e2e_otto/,
  );
  await checkPage(phone, "email-verify-confirm");
  await submitForm(phone, "#verify-confirm", "/email/verify/");
  assert.match(await text(phone, "#verify-done"), /otto@example\.com is your confirmed address/);
  await checkPage(phone, "email-verify-done");
  await page.goto(`${baseUrl}/`);
  assert.match(await text(page, "#email-verified"), /otto@example\.com verified/);
  await checkPage(page, "email-dashboard-verified");
});

test("deleting an account: the page explains, the password confirms, and the name is gone", {
  skip,
}, async () => {
  await new Client(t.app).signUp("e2e_dana");
  const id = await userIdOf(t.deps.db, "e2e_dana");
  const page = await browser.newPage(375);
  await logIn(page, "e2e_dana");
  await clickAndLoad(page, "#delete-account-link");
  assert.equal(new URL(page.url()).pathname, "/account/delete/");
  await checkPage(page, "account-delete");
  await page.fill("#id_password", "not the password");
  await submitForm(page, "#delete-confirm", "/account/delete/");
  assert.match(await text(page, "#id_password_errors"), /Your password was entered incorrectly/);
  await checkPage(page, "account-delete-wrong-password");
  await page.fill("#id_password", PASSWORD);
  await submitForm(page, "#delete-confirm", "/account/delete/");
  assert.match(await text(page, "#account-deleted"), /erased/);
  await checkPage(page, "account-deleted");
  const staff = new Client(t.app);
  assert.equal((await staff.logIn("e2e_dana")).statusCode, 400);
  assert.ok(id > 0);
});

test("staff on a phone: a user's addresses, sending the link again, searching by address, a deleted account", {
  skip,
}, async () => {
  await verifiedUser("e2e_vera", "vera@example.com");
  const vera = new Client(t.app);
  await vera.logIn("e2e_vera");
  await vera.postJson("/email/", { email: "vera.new@example.com" });
  await new Client(t.app).signUp("e2e_staff");
  await createOrPromoteStaff(t.deps.db, { username: "e2e_staff" }, t.deps.hasher);
  const gone = new Client(t.app);
  await gone.signUp("e2e_gone");
  const goneId = await userIdOf(t.deps.db, "e2e_gone");
  assert.equal((await gone.postJson("/account/delete/", { password: PASSWORD })).statusCode, 200);

  const page = await browser.newPage(375);
  await logIn(page, "e2e_staff");
  await page.goto(`${baseUrl}/admin/users/?q=${encodeURIComponent("vera.new@example.com")}`);
  assert.match(await text(page, "#users"), /e2e_vera/);
  await checkPage(page, "admin-users-by-address");
  await clickAndLoad(page, "#users tbody a");
  assert.match(await text(page, "#email-verified"), /vera@example\.com verified/);
  assert.match(await text(page, "#email-pending"), /Waiting for confirmation: vera\.new@example\.com/);
  await submitForm(page, "#resend-verification", `${new URL(page.url()).pathname}email/resend/`);
  assert.match(await text(page, "[role=status]"), /A new confirmation link was sent/);
  await checkPage(page, "admin-user-email");
  await page.goto(`${baseUrl}/admin/users/${goneId}/`);
  assert.match(await text(page, "#deleted-notice"), /deleted by its owner/);
  assert.equal(await text(page, "#user-status"), "deleted");
  await checkPage(page, "admin-user-deleted");
});
