// In a real browser: staff open the review queue, reject one held referral with a reason, approve two
// at once, and see the notices and the queue shrink; a reject without a reason is refused on the page.
// Every state is checked with axe-core, must fit a 375 px phone, and is photographed at 375 px and
// 1280 px into test-artifacts/. Skipped without Chromium, unless REQUIRE_CHROMIUM=1.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { queryRows } from "../../src/db/connection.js";
import { staffClient } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import {
  browserSkipReason,
  checkPage,
  clickAndLoad,
  ensureClientBuilt,
  launchBrowser,
} from "../support/browser.js";

const skip = browserSkipReason() ?? false;
/** The review pages are also checked by axe at 375 px, where their tables become cards. */
const reviewCheck = (page: Page, name: string) => checkPage(page, name, { width: 375, axe: true });
const PASSWORD = "correct horse battery";

let t: TestApp;
let baseUrl: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
const ids: Record<string, number> = {};

async function referralIdOf(invitee: string): Promise<{ id: number; status: string; reason: string | null }> {
  const [row] = await queryRows<{ id: number; status: string; reason: string | null }>(
    t.deps.db,
    sql`SELECT r.id::int AS id, r.status, r.reason FROM referrals r JOIN users u ON u.id = r.invitee_id
        WHERE u.username = ${invitee}`,
  );
  if (!row) throw new Error(`no referral for ${invitee}`);
  return row;
}

before(async () => {
  if (skip) return;
  ensureClientBuilt();
  t = await createTestApp();
  await staffClient(t, "review_staff");
  // The inviter's own browser signs four people up through the link after logging out: each is held
  // by the self-referral signal. One more, from a browser of its own, is approved at once.
  const own = new Client(t.app);
  await own.signUp("rita_inviter");
  const token = tokenOf((await own.dashboard()).referral_link);
  await new Client(t.app).signUp("friend_ok", PASSWORD, token);
  for (const name of ["bob_held", "carol_held", "dave_held", "erin_held"]) {
    await own.post("/logout/");
    await own.signUp(name, PASSWORD, token);
    const referral = await referralIdOf(name);
    assert.equal(referral.status, "held", name);
    ids[name] = referral.id;
  }
  baseUrl = await t.app.listen({ port: 0, host: "127.0.0.1" });
  browser = await launchBrowser();
});

after(async () => {
  if (skip) return;
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await t?.close();
});

async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
  page.on("console", (message) => {
    // A page answered 400 on purpose is reported as a failed load; resources are checked below.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(message.text());
    }
  });
  page.on("response", (response) => {
    if (response.request().resourceType() !== "document" && response.status() >= 400) {
      problems.push(`${response.status()} for ${response.url()}`);
    }
  });
  return { page, problems };
}

async function rowIds(page: Page): Promise<number[]> {
  const values = await page
    .locator("#review tbody input[name=ids]")
    .evaluateAll((boxes) => boxes.map((box) => (box as unknown as { value: string }).value));
  return values.map(Number);
}

test("staff reject one held referral with a reason and approve two at once", { skip }, async () => {
  const { page, problems } = await newPage();
  await page.goto(`${baseUrl}/admin/`);
  assert.match(page.url(), /\/login\/\?next=\/admin\//, "anonymous visitors are sent to log in");
  await page.fill("#id_username", "review_staff");
  await page.fill("#id_password", PASSWORD);
  await Promise.all([page.waitForURL(`${baseUrl}/admin/`), page.click("button[type=submit].btn-primary")]);
  // The admin home page says how many wait, and leads to the queue.
  assert.match((await page.textContent("#review-callout")) ?? "", /4 referrals are held for review\./);
  await reviewCheck(page, "review-home");
  await Promise.all([page.waitForURL(`${baseUrl}/admin/review/`), page.click("#review-callout a")]);

  const {
    bob_held: bob,
    carol_held: carol,
    dave_held: dave,
    erin_held: erin,
  } = ids as Record<string, number>;
  assert.deepEqual(await rowIds(page), [erin, dave, carol, bob], "newest first");
  assert.match((await page.textContent("a.nav-link.active")) ?? "", /Review queue\s*4 held/);
  const bobRow = (await page.textContent(`#referral-${bob}`)) ?? "";
  assert.match(bobRow, /Signed up from a browser the inviter uses/);
  assert.match(bobRow, /\$10\.00/);
  assert.match(bobRow, /1 approved · 3 held · 0 rejected/);
  await reviewCheck(page, "review-queue");

  // Reject without a reason: refused on the page, the box still ticked, nothing decided.
  await page.check(`#select-${bob}`);
  await clickAndLoad(page, "#reject-button");
  assert.match(
    (await page.textContent("#review-errors")) ?? "",
    /Nothing was decided\.\s*Reason: This field is required\./,
  );
  assert.equal(await page.isChecked(`#select-${bob}`), true);
  assert.equal(await page.getAttribute("#review-reason", "aria-invalid"), "true");
  assert.equal((await referralIdOf("bob_held")).status, "held");
  await reviewCheck(page, "review-refused");

  // Reject one, with a reason for the user and a note for staff.
  await page.fill("#review-reason", "Signed up from the inviter's own browser");
  await page.fill("#review-note", "Same device cookie as rita_inviter");
  await Promise.all([page.waitForURL(/notice=rejected/), page.click("#reject-button")]);
  assert.equal((await page.textContent("#review-notice"))?.trim(), "1 referral rejected.");
  assert.deepEqual(await rowIds(page), [erin, dave, carol]);
  assert.equal(await page.inputValue("#review-reason"), "", "the form starts empty again");

  // Tick two, approve both.
  await page.check(`#select-${carol}`);
  await page.click(`label[for=select-${dave}]`);
  await Promise.all([page.waitForURL(/notice=approved/), page.click("#approve-button")]);
  assert.equal((await page.textContent("#review-notice"))?.trim(), "2 referrals approved.");
  assert.deepEqual(await rowIds(page), [erin], "the emptier queue");
  assert.match((await page.textContent("a.nav-link.active")) ?? "", /Review queue\s*1 held/);
  await reviewCheck(page, "review-after");

  const rejected = await referralIdOf("bob_held");
  assert.deepEqual(rejected, {
    id: bob,
    status: "rejected",
    reason: "Signed up from the inviter's own browser",
  });
  assert.equal((await referralIdOf("carol_held")).status, "approved");
  assert.equal((await referralIdOf("dave_held")).status, "approved");
  assert.equal((await referralIdOf("erin_held")).status, "held");

  // The last one, then the empty state.
  await page.check(`#select-${erin}`);
  await Promise.all([page.waitForURL(/notice=approved/), page.click("#approve-button")]);
  assert.match((await page.textContent("#review-empty")) ?? "", /Nothing to review/);
  await reviewCheck(page, "review-empty");

  // The audit log names the decisions, and the analytics count them.
  await page.click("a.nav-link[href='/admin/']");
  const audit = (await page.textContent("main table")) ?? "";
  assert.match(audit, /Referral rejected/);
  assert.match(audit, /Signed up from the inviter's own browser/);
  await reviewCheck(page, "review-audit-log");
  await page.goto(`${baseUrl}/admin/stats/?days=7`);
  assert.match((await page.textContent("#total-approved")) ?? "", /^4 \$40\.00$/);
  assert.match((await page.textContent("#total-rejected")) ?? "", /^1 \$10\.00$/);
  const box = await page.locator("#referrals-chart svg.chart").boundingBox();
  assert.ok(box && box.width > 300, `the referrals chart is drawn (${JSON.stringify(box)})`);
  await reviewCheck(page, "review-stats");
  assert.deepEqual(problems, []);
});
