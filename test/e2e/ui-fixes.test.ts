// Every state the page fixes added, in a real browser: the sign-up's password errors, the throttled
// and the deactivated login, a 404 for someone logged in, "log out on every device" saying how many
// sessions ended, the referrals page empty and paging both ways, and the admin user page on a phone
// (ending one session, a new referral link and deactivation, each confirmed without JavaScript).
// Every page is checked with axe-core, must fit a 360 px phone, and is photographed at 375 and 1280 px.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import {
  browserSkipReason,
  checkPage,
  clickAndLoad,
  ensureClientBuilt,
  openTestBrowser,
  type TestBrowser,
} from "../support/browser.js";

const skip = browserSkipReason() ?? false;
const PASSWORD = "correct horse battery";

let t: TestApp;
/** A second app whose login gives up after two failures, for the throttled page. */
let strict: TestApp;
let baseUrl: string;
let strictUrl: string;
let browser: TestBrowser;

before(async () => {
  if (skip) return;
  ensureClientBuilt();
  t = await createTestApp();
  // Three minutes into a fifteen-minute window, whenever the test runs: "Try again in 12 minutes."
  const window = 15 * 60_000;
  const threeMinutesIn = Math.floor(Date.now() / window) * window + 3 * 60_000;
  strict = await createTestApp(
    { LOGIN_FAILURES_PER_WINDOW: "2", THROTTLE_WINDOW_SECONDS: "900" },
    { clock: () => threeMinutesIn },
  );
  await staffClient(t, "ui_staff");
  const inviter = new Client(t.app);
  await inviter.signUp("ui_inviter");
  const token = tokenOf((await inviter.dashboard()).referral_link);
  for (let i = 1; i <= 5; i++) await new Client(t.app).signUp(`ui_friend_${i}`, PASSWORD, token);
  await new Client(strict.app).signUp("ui_locked");
  baseUrl = await t.app.listen({ port: 0, host: "127.0.0.1" });
  strictUrl = await strict.app.listen({ port: 0, host: "127.0.0.1" });
  browser = await openTestBrowser();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await t?.close();
  await strict?.close();
});

async function logIn(page: Page, origin: string, username: string, password = PASSWORD): Promise<void> {
  await page.goto(`${origin}/login/`);
  await page.fill("#id_username", username);
  await page.fill("#id_password", password);
  await clickAndLoad(page, "main button[type=submit]");
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? "").replace(/\s+/g, " ").trim();
}

test("sign-up: every broken password rule under the Password field, and the mismatch under the confirmation", {
  skip,
}, async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/signup/`);
  await page.fill("#id_username", "ui_newcomer");
  await page.fill("#id_password1", "1234567");
  await page.fill("#id_password2", "7654321");
  // The page is already loaded: wait for the form's answer itself, not for a load state.
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/signup/"),
    page.click("main button[type=submit]"),
  ]);
  await page.waitForSelector("#id_password1_errors");
  assert.deepEqual(await page.locator("#id_password1_errors > div").allTextContents(), [
    "This password is too short. It must contain at least 8 characters.",
    "This password is too common.",
    "This password is entirely numeric.",
  ]);
  assert.equal(await text(page, "#id_password2_errors"), "The two password fields didn’t match.");
  assert.equal(
    await page.evaluate(() => document.activeElement?.id),
    "id_password1",
    "focus on the first field to fix",
  );
  assert.equal(await page.inputValue("#id_username"), "ui_newcomer");
  await checkPage(page, "ui-signup-password-errors");
});

test("login: the throttled page keeps the form and says once when to try again", { skip }, async () => {
  const page = await browser.newPage();
  for (let i = 0; i < 2; i++) await logIn(page, strictUrl, "ui_locked", "wrong password");
  const response = page.waitForResponse(
    (r) => r.url().startsWith(`${strictUrl}/login/`) && r.request().method() === "POST",
  );
  await logIn(page, strictUrl, "ui_locked");
  assert.equal((await response).status(), 429);
  assert.equal(await text(page, "#login-throttled"), "Too many failed attempts. Try again in 12 minutes.");
  assert.equal((await text(page, "main")).match(/Too many/g)?.length, 1, "said once");
  assert.equal(await page.inputValue("#id_username"), "ui_locked");
  await checkPage(page, "ui-login-throttled");
});

test("login: a deactivated account says so after the right password, and only then", { skip }, async () => {
  await new Client(t.app).signUp("ui_gone");
  await t.deps.db.execute(sql`UPDATE users SET is_active = false WHERE username = 'ui_gone'`);
  const page = await browser.newPage();
  await logIn(page, baseUrl, "ui_gone", "wrong password");
  assert.match(
    await text(page, ".alert-danger"),
    /Please enter a correct username and password\. Note that the password is case-sensitive\./,
  );
  await checkPage(page, "ui-login-wrong-password");
  await logIn(page, baseUrl, "UI_GONE");
  assert.equal(await text(page, ".alert-danger"), "This account is inactive.");
  await checkPage(page, "ui-login-inactive");
});

test("a 404 for someone logged in shows their menu", { skip }, async () => {
  const page = await browser.newPage();
  await logIn(page, baseUrl, "ui_inviter");
  const response = await page.goto(`${baseUrl}/no-such-page/`);
  assert.equal(response?.status(), 404);
  const nav = await text(page, "nav[aria-label=Main]");
  assert.match(nav, /Dashboard/);
  assert.match(nav, /Referrals/);
  assert.match(nav, /Log out/);
  assert.doesNotMatch(nav, /Log in|Sign up/);
  assert.match(await text(page, "main"), /Back to your dashboard/);
  await checkPage(page, "ui-not-found-logged-in");
  // The menu's Log out works from this page (its form carries the token).
  await clickAndLoad(page, "nav >> text=Log out");
  assert.match(await text(page, "main"), /You are logged out/);
});

test("log out on every device says how many sessions ended", { skip }, async () => {
  await new Client(t.app).signUp("ui_devices");
  await new Client(t.app).logIn("ui_devices");
  const page = await browser.newPage();
  await logIn(page, baseUrl, "ui_devices");
  await clickAndLoad(page, "form[action='/logout/everywhere/'] button[type=submit]");
  // The sign-up's session, the other login's and this one.
  assert.equal(await text(page, "#sessions-ended"), "You were logged out of 3 sessions, on every device.");
  await checkPage(page, "ui-logged-out-everywhere");
});

test("referrals: an empty page says how to invite; a full one pages both ways", { skip }, async () => {
  await new Client(t.app).signUp("ui_lonely");
  const lonely = await browser.newPage();
  await logIn(lonely, baseUrl, "ui_lonely");
  await clickAndLoad(lonely, "nav >> text=Referrals");
  assert.equal(new URL(lonely.url()).pathname, "/referrals/");
  assert.match(await text(lonely, "#referrals-empty"), /Nobody has joined through your link yet\./);
  await checkPage(lonely, "ui-referrals-empty");
  await Promise.all([lonely.waitForURL(`${baseUrl}/#referral-link`), lonely.click("#referrals-empty a")]);

  const page = await browser.newPage();
  await logIn(page, baseUrl, "ui_inviter");
  await page.goto(`${baseUrl}/referrals/?limit=2`);
  const names = () => page.locator("#referrals tbody td:first-child").allTextContents();
  assert.deepEqual(await names(), ["ui_friend_5", "ui_friend_4"]);
  assert.equal(await page.locator("a[rel=prev]").count(), 0);
  await clickAndLoad(page, "a[rel=next]");
  assert.deepEqual(await names(), ["ui_friend_3", "ui_friend_2"]);
  assert.equal(await text(page, "a[rel=prev]"), "Newer sign-ups");
  await checkPage(page, "ui-referrals-page-2");
  await clickAndLoad(page, "a[rel=prev]");
  assert.deepEqual(await names(), ["ui_friend_5", "ui_friend_4"]);
  assert.equal(await page.locator("a[rel=prev]").count(), 0, "back on the newest page");
});

test("admin user page on a phone: sessions, ending one, a new link and deactivation, each confirmed", {
  skip,
}, async () => {
  const member = new Client(t.app);
  await member.signUp("ui_member", PASSWORD);
  const phone = new Client(t.app);
  await phone.logIn("ui_member");
  const memberId = await userIdOf(t.deps.db, "ui_member");
  const staffApi = new Client(t.app);
  await staffApi.logIn("ui_staff");
  await staffApi.post(`/admin/users/${memberId}/adjust/`, {
    direction: "add",
    amount: "12.50",
    reason: "Refund for order #1234, sent by courier to the wrong address",
    note: "Agreed with the courier team; ticket 99812. Do not repeat without a manager.",
  });

  const page = await browser.newPage(375);
  await logIn(page, baseUrl, "ui_staff");
  await page.goto(`${baseUrl}/admin/users/${memberId}/`);
  assert.equal(await page.locator("#sessions tbody tr").count(), 2);
  assert.match(await text(page, "#ledger tbody tr:first-child"), /Staff note: Agreed with the courier team/);
  assert.match(await page.inputValue("#referral-link"), /\/signup\/\?ref=/);
  await checkPage(page, "ui-admin-user");

  await clickAndLoad(page, "#sessions tbody tr:first-child button[type=submit]");
  assert.match(await text(page, "[role=status]"), /The session was ended: that device is logged out\./);
  assert.equal(await page.locator("#sessions tbody tr").count(), 1);
  await checkPage(page, "ui-admin-session-ended");

  const oldLink = await page.inputValue("#referral-link");
  await clickAndLoad(page, "#regenerate-link");
  assert.match(await text(page, "h1"), /Give ui_member a new referral link\?/);
  await checkPage(page, "ui-admin-confirm-new-link");
  await clickAndLoad(page, "#confirm-form button[type=submit]");
  assert.match(await text(page, "[role=status]"), /new referral link/);
  assert.notEqual(await page.inputValue("#referral-link"), oldLink);

  await clickAndLoad(page, "#deactivate-link");
  assert.match(await text(page, "h1"), /Deactivate ui_member\?/);
  await checkPage(page, "ui-admin-confirm-deactivate");
  await clickAndLoad(page, "#confirm-form button[type=submit]");
  assert.match(await text(page, "[role=status]"), /deactivated/);
  assert.equal(await page.locator("#sessions tbody tr").count(), 0);
  await checkPage(page, "ui-admin-user-deactivated");

  // The other staff pages fit the phone too, the audit log with the new entries among them.
  await page.goto(`${baseUrl}/admin/`);
  assert.match(await text(page, "main"), /New referral link/);
  assert.match(await text(page, "main"), /Session ended/);
  await checkPage(page, "ui-admin-audit-log");
  for (const [path, name] of [
    ["/admin/users/", "ui-admin-users"],
    ["/admin/stats/", "ui-admin-stats"],
    ["/admin/review/", "ui-admin-review"],
  ] as const) {
    await page.goto(`${baseUrl}${path}`);
    await checkPage(page, name);
  }
});
