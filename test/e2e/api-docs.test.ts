// The API's pages in a real browser: the reference at /api/docs (drawn from the OpenAPI document,
// under the site's Content-Security-Policy: a script or style it needed would fail the test) and
// staff making, seeing once, and revoking a key at /admin/api-keys/. Every page is checked with
// axe-core at desktop and phone width, must fit a 360 px phone, and is photographed at 375 and
// 1280 px (into test-artifacts/, or API_SHOTS_DIR when set).
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { staffClient } from "../support/admin.js";
import { createTestApp, type TestApp } from "../support/app.js";
import {
  ARTIFACTS_DIR,
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
let baseUrl: string;
let browser: TestBrowser;

before(async () => {
  if (skip) return;
  ensureClientBuilt();
  t = await createTestApp();
  await staffClient(t, "keys_staff");
  baseUrl = await t.app.listen({ port: 0, host: "127.0.0.1" });
  browser = await openTestBrowser();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await t?.close();
});

/** checkPage, and a copy of its screenshots where API_SHOTS_DIR says (to look at them). */
async function checkAndKeep(page: Page, name: string): Promise<void> {
  await checkPage(page, name, { axe: true });
  const shots = process.env.API_SHOTS_DIR;
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  for (const width of [375, 1280]) {
    copyFileSync(join(ARTIFACTS_DIR, `${name}-${width}.png`), join(shots, `${name}-${width}.png`));
  }
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? "").replace(/\s+/g, " ").trim();
}

async function logIn(page: Page, username: string): Promise<void> {
  await page.goto(`${baseUrl}/login/`);
  await page.fill("#id_username", username);
  await page.fill("#id_password", PASSWORD);
  await clickAndLoad(page, "main button[type=submit]");
}

test("the API reference lists every operation, the auth scheme and the schemas", { skip }, async () => {
  const document = (await t.app.inject({ url: "/api/v1/openapi.json" })).json() as {
    paths: Record<string, Record<string, { operationId: string; summary: string }>>;
    components: { schemas: Record<string, unknown> };
  };
  const page = await browser.newPage(375);
  const response = await page.goto(`${baseUrl}/api/docs`);
  assert.equal(response?.status(), 200);
  assert.equal(await text(page, "h1"), "Referral programme API");
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const section = `#${operation.operationId}`;
      assert.equal(await text(page, `${section} h3`), operation.summary);
      assert.match(
        await text(page, section),
        new RegExp(`${method.toUpperCase()} ${path.replace(/[{}]/g, "\\$&")}`),
      );
      assert.equal(
        await page.locator(`nav a[href="${section}"]`).count(),
        1,
        `${section} is in the contents`,
      );
    }
  }
  for (const name of Object.keys(document.components.schemas)) {
    assert.equal(await page.locator(`#schema-${name}`).count(), 1, `the schema ${name} is shown`);
  }
  assert.match(await text(page, "#authentication"), /bearerAuth: http, scheme bearer/);
  // A schema's name links to its table.
  await Promise.all([
    page.waitForURL(/#schema-Adjustment$/),
    page.click("#createAdjustment a[href='#schema-Adjustment']"),
  ]);
  await checkAndKeep(page, "api-docs");
  const json = await page.goto(`${baseUrl}/api/v1/openapi.json`);
  assert.equal(json?.status(), 200, "the link to the JSON needs no key");
});

test("staff make a key, see it once, and revoke it", { skip }, async () => {
  const page = await browser.newPage(1280);
  await logIn(page, "keys_staff");
  await page.goto(`${baseUrl}/admin/api-keys/`);
  assert.equal(await text(page, "main .admin-tabs a[aria-current=page]"), "API keys");
  assert.match(await text(page, "main"), /No keys yet\./);

  // A name is required: the form comes back with its error.
  await clickAndLoad(page, "#api-key-form button[type=submit]");
  assert.equal(await text(page, "#key-name-errors"), "This field is required.");

  await page.fill("#key-name", "Warehouse sync — a name long enough to wrap on a phone screen");
  await page.check("#key-scope-write");
  await clickAndLoad(page, "#api-key-form button[type=submit]");
  const key = await text(page, "#new-key-value");
  assert.match(key, /^rk_[A-Za-z0-9_-]{43}$/);
  const opened = await t.app.inject({ url: "/api/v1/users", headers: { authorization: `Bearer ${key}` } });
  assert.equal(opened.statusCode, 200);
  await checkAndKeep(page, "admin-api-key-made");

  // Shown once: the list never holds it again.
  await page.goto(`${baseUrl}/admin/api-keys/`);
  assert.equal(await page.locator("#new-key-value").count(), 0);
  assert.ok(!(await page.content()).includes(key));
  assert.match(await text(page, "#api-keys tbody tr"), new RegExp(`${key.slice(0, 11)}… Read-write`));
  await checkAndKeep(page, "admin-api-keys");

  await clickAndLoad(page, "#api-keys a:has-text('Revoke')");
  assert.match(await text(page, "h1"), /^Revoke the key “Warehouse sync/);
  await checkAndKeep(page, "admin-api-key-revoke");
  await Promise.all([page.waitForURL(/notice=revoked/), page.click("#confirm-form button[type=submit]")]);
  assert.match(await text(page, "[role=status]"), /The key is revoked/);
  assert.match(await text(page, "#api-keys tbody tr"), /revoked/);
  const refused = await t.app.inject({ url: "/api/v1/users", headers: { authorization: `Bearer ${key}` } });
  assert.equal(refused.statusCode, 401);
  await checkAndKeep(page, "admin-api-keys-revoked");
});
