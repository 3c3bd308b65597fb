// In a real browser: a staff member logs in, finds a user, adjusts their balance, and sees the
// adjustment in the user's history; the stats page renders under the strict CSP. Screenshots go
// to test-artifacts/. Skipped when /usr/bin/chromium is missing, unless REQUIRE_CHROMIUM=1.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { type Browser, chromium, type Page } from "playwright-core";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import { clickAndLoad } from "../support/browser.js";

const CHROMIUM = "/usr/bin/chromium";
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const PASSWORD = "correct horse battery";
const artifacts = "test-artifacts";
const hasChromium = existsSync(CHROMIUM);
const required = process.env.REQUIRE_CHROMIUM === "1";
const skip =
  hasChromium || required
    ? false
    : `${CHROMIUM} is missing: install Debian's chromium to run the admin browser test (REQUIRE_CHROMIUM=1 makes this a failure)`;

/** The one browser global the page checks use (the project's types have no DOM). */
interface BrowserWindow {
  getComputedStyle(element: unknown): { fill: string };
}

let t: TestApp;
let baseUrl: string;
let browser: Browser;
let carolId: number;

/** Thirty days of backdated sign-ups and rewards, so the charts have something to draw. */
async function seedHistory(app: TestApp): Promise<void> {
  await app.deps.db.execute(sql`
    INSERT INTO users (username, username_key, password_hash, referral_token, created_at)
    SELECT 'early_' || i, 'early_' || i, 'x', 'early-token-' || i, now() - interval '60 days' - make_interval(hours => i)
    FROM generate_series(1, 40) AS i`);
  await app.deps.db.execute(sql`
    INSERT INTO users (username, username_key, password_hash, referral_token, invited_by_id, created_at)
    SELECT 'seeded_' || i, 'seeded_' || i, 'x', 'seeded-token-' || i,
           CASE WHEN i % 3 = 0 THEN NULL ELSE (SELECT id FROM users WHERE username = 'early_' || (1 + (i * 7) % 9)) END,
           date_trunc('day', now()) - make_interval(days => (i * i) % 29) + make_interval(mins => i)
    FROM generate_series(1, 220) AS i`);
  await app.deps.db.execute(sql`
    UPDATE users u SET referred_count = (SELECT count(*) FROM users i WHERE i.invited_by_id = u.id)
    WHERE u.username LIKE 'early\\_%'`);
  await app.deps.db.execute(sql`
    INSERT INTO ledger_entries (user_id, amount_cents, kind, signup_user_id, created_at)
    SELECT id, 1000, 'invitee_bonus', id, created_at FROM users WHERE username LIKE 'seeded\\_%' AND invited_by_id IS NOT NULL`);
  await app.deps.db.execute(sql`
    INSERT INTO ledger_entries (user_id, amount_cents, kind, referral_count, created_at)
    SELECT invited_by_id, 1000, 'inviter_reward', 5, max(created_at)
    FROM users WHERE username LIKE 'seeded\\_%' AND invited_by_id IS NOT NULL
    GROUP BY invited_by_id, date_trunc('week', created_at)`);
}

before(async () => {
  if (skip) return;
  if (!hasChromium) throw new Error(`REQUIRE_CHROMIUM=1 but ${CHROMIUM} is missing`);
  mkdirSync(artifacts, { recursive: true });
  t = await createTestApp();
  await staffClient(t, "staff_e2e");
  const inviter = new Client(t.app);
  await inviter.signUp("inviter_e2e");
  const token = tokenOf((await inviter.dashboard()).referral_link);
  await new Client(t.app).signUp("carol_e2e", PASSWORD, token);
  carolId = await userIdOf(t.deps.db, "carol_e2e");
  await seedHistory(t);
  baseUrl = await t.app.listen({ port: 0, host: "127.0.0.1" });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

after(async () => {
  await browser?.close();
  await t?.close();
});

/** axe-core's serious and critical findings on the page, run through DevTools (the CSP allows no inline script). */
async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const found = (await page.evaluate(
    "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))",
  )) as string[];
  return found;
}

/** A page that collects CSP violations, script errors and failed stylesheets or scripts. */
async function strictPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    // A page answered 400 or 404 on purpose is reported as a failed load: resources are checked below.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(message.text());
    }
  });
  page.on("response", (response) => {
    if (response.request().resourceType() !== "document" && response.status() >= 400) {
      problems.push(`${response.status()} for ${response.url()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return { page, problems };
}

async function logIn(page: Page, username: string, nextPath: string): Promise<void> {
  await page.goto(`${baseUrl}${nextPath}`);
  assert.match(page.url(), /\/login\/\?next=/, "anonymous visitors are sent to the login page");
  await page.fill("#id_username", username);
  await page.fill("#id_password", PASSWORD);
  await Promise.all([
    page.waitForURL(`${baseUrl}${nextPath}`),
    page.click("button[type=submit].btn-primary"),
  ]);
}

test("staff log in, adjust a balance, and the adjustment shows in the user's history", { skip }, async () => {
  const { page, problems } = await strictPage();
  await logIn(page, "staff_e2e", "/admin/");
  await page.screenshot({ path: `${artifacts}/admin-audit-log.png`, fullPage: true });

  await page.click("a.nav-link[href='/admin/users/']");
  await page.fill("#q", "CAROL");
  await Promise.all([page.waitForURL(/q=CAROL/), page.click("form[role=search] button[type=submit]")]);
  await page.screenshot({ path: `${artifacts}/admin-users.png`, fullPage: true });
  assert.deepEqual(await accessibilityProblems(page), [], "the users page");
  await Promise.all([
    page.waitForURL(`${baseUrl}/admin/users/${carolId}/`),
    page.click("#users tbody a[href^='/admin/users/']"),
  ]);
  assert.equal((await page.textContent("#balance"))?.trim(), "$10.00");

  await page.selectOption("#adjust-direction", "add");
  await page.fill("#adjust-amount", "25.50");
  await page.fill("#adjust-reason", "Refund for order #1234");
  await Promise.all([page.waitForURL(/notice=adjusted/), page.click("#adjust-form button[type=submit]")]);
  assert.equal((await page.textContent("#balance"))?.trim(), "$35.50");
  assert.match((await page.textContent("[role=status]")) ?? "", /The adjustment was recorded\./);
  const firstEntry = (await page.textContent("#ledger tbody tr:first-child")) ?? "";
  assert.match(firstEntry, /Staff adjustment/);
  assert.match(firstEntry, /\+\$25\.50/);
  assert.match(firstEntry, /Refund for order #1234/);
  assert.match(firstEntry, /staff_e2e/);
  await page.screenshot({ path: `${artifacts}/admin-user-adjusted.png`, fullPage: true });
  assert.deepEqual(await accessibilityProblems(page), [], "the user page");

  // A removal larger than the balance is refused on the page, with what was typed kept.
  await page.selectOption("#adjust-direction", "remove");
  await page.fill("#adjust-amount", "100");
  await page.fill("#adjust-reason", "Too much");
  await clickAndLoad(page, "#adjust-form button[type=submit]");
  assert.match(
    (await page.textContent("#adjust-amount-errors")) ?? "",
    /Cannot remove \$100\.00: the balance is only \$35\.50/,
  );
  assert.equal(await page.inputValue("#adjust-amount"), "100");
  await page.screenshot({ path: `${artifacts}/admin-user-refused.png`, fullPage: true });

  // The user's own view: the adjustment is in their credit history, with its reason and the new balance.
  const carol = await strictPage();
  await logIn(carol.page, "carol_e2e", "/");
  assert.equal((await carol.page.textContent("#balance"))?.trim(), "$35.50");
  const history = await carol.page.goto(`${baseUrl}/history/`);
  assert.equal(history?.status(), 200);
  const newest = (await carol.page.textContent("#history tbody tr:first-child")) ?? "";
  assert.match(newest, /Adjustment, credit added by staff: Refund for order #1234/);
  assert.match(newest, /\+\$25\.50/);
  assert.match(newest, /\$35\.50/);
  await carol.page.screenshot({ path: `${artifacts}/admin-user-history.png`, fullPage: true });
  assert.deepEqual(problems, []);
  assert.deepEqual(carol.problems, []);
});

test("the analytics page draws its charts under the strict CSP", { skip }, async () => {
  const { page, problems } = await strictPage();
  await logIn(page, "staff_e2e", "/admin/stats/");
  for (const id of ["#signups-chart svg.chart", "#rewards-chart svg.chart", "#top-chart svg.chart"]) {
    const box = await page.locator(id).boundingBox();
    assert.ok(box && box.width > 300 && box.height > 100, `${id} is drawn (${JSON.stringify(box)})`);
  }
  // The bars take their colour from Bootstrap's classes: a filled bar is not black or transparent.
  const fill = await page
    .locator("#signups-chart rect.text-primary")
    .first()
    .evaluate((el) => (globalThis as unknown as BrowserWindow).getComputedStyle(el).fill);
  assert.notEqual(fill, "rgb(0, 0, 0)");
  await page.screenshot({ path: `${artifacts}/admin-stats.png`, fullPage: true });
  assert.deepEqual(await accessibilityProblems(page), [], "the stats page");
  await page.click("a[href='/admin/stats/?days=90']");
  await page.waitForURL(/days=90/);
  await page.screenshot({ path: `${artifacts}/admin-stats-90.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${artifacts}/admin-stats-phone.png`, fullPage: true });
  assert.deepEqual(problems, []);
});
