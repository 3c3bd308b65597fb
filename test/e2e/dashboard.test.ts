// The programme in a real browser: sign up through a link, watch the dashboard change as friends
// join, copy the link, log out and in, see field errors. Every page is checked with axe-core and
// photographed at 375 px and 1280 px into test-artifacts/.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { oneAddressSignals } from "../support/app.js";
import {
  accessibilityViolations,
  browserSkipReason,
  checkPage,
  clickAndLoad,
  describeViolations,
  ensureClientBuilt,
  openTestBrowser,
  type TestBrowser,
} from "../support/browser.js";
import { type ServerProcess, startServerProcess } from "../support/server-process.js";

const skip = browserSkipReason() ?? false;
const PASSWORD = "correct horse battery";

let server: ServerProcess;
let browser: TestBrowser;

before(async () => {
  if (skip) return;
  ensureClientBuilt();
  server = await startServerProcess({
    SIGNUPS_PER_WINDOW: "1000",
    LOGIN_FAILURES_PER_WINDOW: "1000",
    ...oneAddressSignals,
  });
  browser = await openTestBrowser();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await server?.stop();
});

async function signUpThroughForm(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.fill("#id_username", username);
  await page.fill("#id_password1", password);
  await page.fill("#id_password2", password);
  await clickAndLoad(page, "button[type=submit]");
}

let aliceLink = "";

test("a newcomer sees a field error, then signs up and lands on an accessible dashboard", {
  skip,
}, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/signup/`);
  await checkPage(page, "signup");

  await page.fill("#id_username", "alice");
  await page.fill("#id_password1", PASSWORD);
  await page.fill("#id_password2", "something else entirely");
  await page.click("button[type=submit]");
  await page.waitForSelector("#id_password2_errors");
  assert.equal(
    (await page.textContent("#id_password2_errors"))?.trim(),
    "The two password fields didn’t match.",
  );
  assert.equal(await page.getAttribute("#id_password2", "aria-invalid"), "true");
  assert.equal(await page.inputValue("#id_username"), "alice", "the username is kept");
  assert.equal(
    await page.evaluate(() => document.activeElement?.id),
    "id_password2",
    "focus on the field to fix",
  );
  await checkPage(page, "signup-error");

  await signUpThroughForm(page, "alice");
  assert.equal(new URL(page.url()).pathname, "/");
  assert.equal((await page.textContent("h1"))?.trim(), "Hello, alice!");
  assert.equal((await page.textContent("#balance"))?.trim(), "$0.00");
  assert.match((await page.textContent("#progress-text")) ?? "", /0 of 5 sign-ups toward your next \$10\.00/);
  aliceLink = await page.inputValue("#referral-link");
  assert.match(aliceLink, /\/signup\/\?ref=[A-Za-z0-9_-]{22}$/);
  assert.ok(await page.isVisible(".referral-qr svg"), "the QR code is drawn");
  await checkPage(page, "dashboard-new");
});

test("the Copy button copies the link, by mouse and by keyboard, and says so", { skip }, async () => {
  const page = await browser.newPage();
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.baseUrl });
  await page.goto(`${server.baseUrl}/login/`);
  await page.fill("#id_username", "alice");
  await page.fill("#id_password", PASSWORD);
  await Promise.all([page.waitForURL(`${server.baseUrl}/`), page.click("button[type=submit]")]);

  await page.click("#copy-link");
  await page.waitForFunction(() => document.querySelector("#copy-status")?.textContent !== "");
  assert.equal(await page.textContent("#copy-status"), "Link copied to the clipboard.");
  assert.equal(await page.textContent("#copy-link"), "Copied!");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), aliceLink);

  // Keyboard only: from the link field, Tab reaches Copy and Enter presses it.
  await page.evaluate(() => navigator.clipboard.writeText(""));
  await page.focus("#referral-link");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "copy-link");
  await page.keyboard.press("Enter");
  await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== "");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), aliceLink);
});

test("friends join through the link: invitation banner, password meter, and the inviter's progress", {
  skip,
}, async () => {
  const alice = await browser.newPage();
  await alice.goto(`${server.baseUrl}/login/`);
  await alice.fill("#id_username", "alice");
  await alice.fill("#id_password", PASSWORD);
  await Promise.all([alice.waitForURL(`${server.baseUrl}/`), alice.click("button[type=submit]")]);

  for (let i = 1; i <= 6; i++) {
    const friend = await browser.newPage();
    await friend.goto(aliceLink);
    assert.match(
      (await friend.textContent(".alert-success")) ?? "",
      /alice\s+invited you: you get\s+\$10\.00 when you join\./,
    );
    if (i === 1) {
      await checkPage(friend, "signup-invited");
      // The meter runs the server's rules as the person types.
      await friend.fill("#id_username", "friend_1");
      await friend.fill("#id_password1", "password");
      await friend.waitForFunction(() =>
        /Not accepted/.test(document.querySelector("#password-strength")?.textContent ?? ""),
      );
      assert.match((await friend.textContent("#password-strength")) ?? "", /This password is too common\./);
      assert.ok(await friend.isVisible("#password-meter"));
      await friend.fill("#id_password1", "12345678901");
      await friend.waitForFunction(() =>
        /entirely numeric/.test(document.querySelector("#password-strength")?.textContent ?? ""),
      );
      await friend.fill("#id_password1", PASSWORD);
      await friend.waitForFunction(() =>
        /will accept it/.test(document.querySelector("#password-strength")?.textContent ?? ""),
      );
      await checkPage(friend, "signup-meter");
    }
    if (i === 2) {
      // A failed submission keeps the invitation.
      await friend.fill("#id_username", "alice");
      await friend.fill("#id_password1", PASSWORD);
      await friend.fill("#id_password2", PASSWORD);
      await friend.click("button[type=submit]");
      await friend.waitForSelector("#id_username_errors");
      assert.equal(
        (await friend.textContent("#id_username_errors"))?.trim(),
        "A user with that username already exists.",
      );
      assert.match((await friend.textContent(".alert-success")) ?? "", /alice\s+invited you/);
    }
    await signUpThroughForm(friend, `friend_${i}`);
    assert.equal(
      (await friend.textContent("#balance"))?.trim(),
      "$10.00",
      `friend_${i} got the welcome bonus`,
    );

    await alice.reload();
    const toward = i % 5;
    assert.match((await alice.textContent("#progress-text")) ?? "", new RegExp(`^${toward} of 5 sign-ups`));
    assert.equal(await alice.getAttribute("#referral-progress", "value"), String(toward));
    assert.equal((await alice.textContent("#balance"))?.trim(), i >= 5 ? "$10.00" : "$0.00");
    assert.match(
      (await alice.textContent("#referred-count")) ?? "",
      new RegExp(`^${i} ${i === 1 ? "person" : "people"}`),
    );
    if (i === 3) await checkPage(alice, "dashboard-progress");
  }
  // The newest five are listed on the dashboard; everyone on /referrals/.
  assert.deepEqual(await alice.locator("#referrals tbody td:first-child").allTextContents(), [
    "friend_6",
    "friend_5",
    "friend_4",
    "friend_3",
    "friend_2",
  ]);
  await checkPage(alice, "dashboard-rewarded");
  await alice.click("text=See everyone who joined");
  assert.equal(await alice.locator("#referrals tbody tr").count(), 6);
  await checkPage(alice, "referrals");

  await alice.click("text=Credit history");
  assert.equal(new URL(alice.url()).pathname, "/history/");
  assert.match(
    (await alice.textContent("#history tbody")) ?? "",
    /Referral reward: 5 more people joined through your link \(5 in all\)/,
  );
  await checkPage(alice, "history");
});

test("log out and back in, with the navigation bar and by keyboard", { skip }, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/`);
  assert.equal(new URL(page.url()).pathname, "/login/", "not logged in: sent to the login page");
  await checkPage(page, "login");
  await page.fill("#id_username", "friend_3");
  await page.fill("#id_password", "wrong password here");
  await page.click("button[type=submit]");
  await page.waitForSelector(".alert-danger");
  await checkPage(page, "login-error");

  await page.fill("#id_password", PASSWORD);
  await page.press("#id_password", "Enter");
  await page.waitForURL(`${server.baseUrl}/`);
  assert.equal((await page.textContent("h1"))?.trim(), "Hello, friend_3!");

  await page.click("nav >> text=Log out");
  await page.waitForSelector("text=You are logged out");
  await checkPage(page, "logged-out");
  await page.click("text=Log in again");
  await page.fill("#id_username", "friend_3");
  await page.fill("#id_password", PASSWORD);
  await Promise.all([page.waitForURL(`${server.baseUrl}/`), page.click("button[type=submit]")]);
  assert.equal((await page.textContent("#balance"))?.trim(), "$10.00");

  await page.goto(`${server.baseUrl}/no-such-page/`);
  await checkPage(page, "not-found");
});

test("a sign-up from the inviter's own browser is held: the newcomer sees $10 pending, in plain words", {
  skip,
}, async () => {
  // Alice's browser keeps its device cookie after she logs out: the self-referral signal holds this.
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/login/`);
  await page.fill("#id_username", "alice");
  await page.fill("#id_password", PASSWORD);
  await Promise.all([page.waitForURL(`${server.baseUrl}/`), page.click("button[type=submit]")]);
  const link = await page.inputValue("#referral-link");
  await page.click("nav >> text=Log out");
  await page.waitForSelector("text=You are logged out");
  await page.goto(link);
  await signUpThroughForm(page, "pending_pat");
  assert.equal((await page.textContent("h1"))?.trim(), "Hello, pending_pat!");
  assert.equal((await page.textContent("#balance"))?.trim(), "$0.00");
  assert.equal((await page.textContent("#pending"))?.trim(), "+ $10.00 pending");
  const notice = (await page.textContent("#pending-notice"))?.replace(/\s+/g, " ").trim();
  assert.equal(
    notice,
    "Your $10.00 welcome credit is being checked, usually within a day. It joins your balance once approved.",
  );
  await checkPage(page, "dashboard-pending");
  await page.goto(`${server.baseUrl}/history/`);
  assert.match((await page.textContent("#history")) ?? "", /pending/);
  await checkPage(page, "history-pending");
});

test("a sign-up link that is not valid says so, and the form still works", { skip }, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.baseUrl}/signup/?ref=AAAAAAAAAAAAAAAAAAAAAA`);
  assert.match((await page.textContent("#invalid-link")) ?? "", /This invitation link is not valid/);
  await checkPage(page, "signup-invalid-link");
  await signUpThroughForm(page, "no_link_nia");
  assert.equal((await page.textContent("h1"))?.trim(), "Hello, no_link_nia!");
});

test("the accessibility check is real: axe-core reports an unlabelled input", { skip }, async () => {
  const page = await browser.newPage();
  await page.setContent(
    '<!doctype html><html lang="en"><title>x</title><main><input type="text"></main></html>',
  );
  const violations = await accessibilityViolations(page);
  assert.ok(
    violations.some((v) => v.id === "label"),
    `expected a label violation, got: ${describeViolations(violations)}`,
  );
});
