// The staff webhook pages in a real browser: the empty list, the add form refusing an address and an
// empty choice of events, the secret shown once, the list with its endpoints, an endpoint's page with
// its delivery log, a test event's delivery, a delivery with its attempts, a rotated secret, the
// delete confirmation, and an endpoint the service turned off. Every page is checked with axe-core at
// desktop and phone width, must fit a 360 px phone (long addresses and event ids wrap), and is
// photographed at 375 and 1280 px. The worker is off (WEBHOOKS=off): deliveries wait, and the
// attempts a worker would log are written here directly.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { queryRows } from "../../src/db/connection.js";
import { staffClient } from "../support/admin.js";
import { createTestApp, type TestApp } from "../support/app.js";
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
/** Long enough to wrap on a phone: no page may scroll sideways because of it. */
const LONG_URL =
  "http://127.0.0.1:9/integrations/referral-programme/webhooks/receiver-with-a-long-name?tenant=acme-corporation-international";
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;

let t: TestApp;
let baseUrl: string;
let browser: TestBrowser;

before(async () => {
  if (skip) return;
  ensureClientBuilt();
  t = await createTestApp({ WEBHOOK_ALLOWED_ADDRESSES: "127.0.0.1" });
  await staffClient(t, "hook_admin");
  baseUrl = await t.app.listen({ port: 0, host: "127.0.0.1" });
  browser = await openTestBrowser();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await t?.close();
});

async function logIn(page: Page): Promise<void> {
  await page.goto(`${baseUrl}/login/`);
  await page.fill("#id_username", "hook_admin");
  await page.fill("#id_password", PASSWORD);
  await clickAndLoad(page, "main button[type=submit]");
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector)) ?? "").replace(/\s+/g, " ").trim();
}

async function storedSecret(url: string): Promise<string> {
  const rows = await queryRows<{ secret: string }>(
    t.deps.db,
    sql`SELECT secret FROM webhook_endpoints WHERE url = ${url}`,
  );
  return rows[0]?.secret ?? "";
}

test("staff add an endpoint: the empty list, the form's errors, the secret shown once, the list", {
  skip,
}, async () => {
  const page = await browser.newPage(375);
  await logIn(page);
  await page.goto(`${baseUrl}/admin/webhooks/`);
  assert.equal(await text(page, "#no-endpoints"), "No endpoints yet: add one below.");
  assert.equal(await text(page, ".admin-tabs [aria-current=page]"), "Webhooks");
  // Every event type is offered, with what it carries.
  assert.equal(await page.locator("#add-endpoint-form input[type=checkbox]").count(), 8);
  assert.match(await text(page, "#new-event-reward-granted-help"), /^Credit paid for a referral/);
  await checkPage(page, "webhooks-empty", { axe: true });

  // An address on the cloud's metadata service, and no event type.
  await page.fill("#new-url", "http://169.254.169.254/latest/meta-data/");
  await page.fill("#new-description", "Metadata");
  assert.equal(await submitForm(page, "#add-endpoint-form button[type=submit]", "/admin/webhooks/"), 400);
  assert.match(await text(page, "#new-url-errors"), /^The address points to 169\.254\.169\.254, a private/);
  assert.equal(await text(page, "#new-event_types-errors"), "Choose at least one event type.");
  assert.equal(await page.getAttribute("#new-url", "aria-invalid"), "true");
  assert.equal(await page.inputValue("#new-description"), "Metadata", "what was typed is kept");
  // On a phone the form is far down the page: the answer opens at it, its errors in view.
  assert.equal(new URL(page.url()).hash, "#add-endpoint");
  assert.ok(await page.evaluate(() => window.scrollY > 0), "scrolled to the form");
  await checkPage(page, "webhooks-form-errors", { axe: true });

  await page.fill("#new-url", "hooks.example.com/in");
  await page.check("#new-event-user-created");
  assert.equal(await submitForm(page, "#add-endpoint-form button[type=submit]", "/admin/webhooks/"), 400);
  assert.match(await text(page, "#new-url-errors"), /^Enter a full web address/);
  assert.equal(await page.isChecked("#new-event-user-created"), true, "the ticked box stays ticked");

  await page.fill("#new-url", LONG_URL);
  await page.fill("#new-description", "CRM sync for the sales team");
  await page.check("#new-event-referral-approved");
  await page.check("#new-event-reward-granted");
  assert.equal(await submitForm(page, "#add-endpoint-form button[type=submit]", "/admin/webhooks/"), 201);
  assert.equal(new URL(page.url()).pathname, "/admin/webhooks/", "the answer itself, not a redirect");
  const secret = await text(page, "#webhook-secret");
  assert.match(secret, SECRET);
  assert.equal(secret, await storedSecret(LONG_URL));
  assert.match(await text(page, "main"), /Copy it now: it will not be shown again\./);
  // One click selects it all, ready to copy.
  await page.click("#webhook-secret");
  assert.equal(await page.evaluate(() => String(window.getSelection())), secret);
  await checkPage(page, "webhooks-secret", { axe: true });

  await clickAndLoad(page, "text=All webhooks");
  assert.equal(await page.locator("#endpoints tbody tr").count(), 1);
  assert.equal(await text(page, "#endpoints td[data-label=Endpoint] a"), LONG_URL);
  assert.equal(await text(page, "#endpoints td[data-label=Status]"), "on");
  assert.equal(await text(page, "#endpoints td[data-label='Last delivered']"), "never");
  assert.equal((await page.content()).includes(secret), false, "never shown again");
  await checkPage(page, "webhooks-list", { axe: true });
});

test("an endpoint's page: a test event, its delivery log, a delivery with attempts, a new secret", {
  skip,
}, async () => {
  const page = await browser.newPage(375);
  await logIn(page);
  await page.goto(`${baseUrl}/admin/webhooks/`);
  await clickAndLoad(page, "#endpoints td[data-label=Endpoint] a");
  const base = new URL(page.url()).pathname;
  assert.match(base, /^\/admin\/webhooks\/\d+\/$/);
  const endpointId = Number(base.split("/")[3]);
  assert.equal(await text(page, "#no-deliveries"), "No deliveries yet.");
  assert.equal(await page.inputValue("#edit-url"), LONG_URL);
  assert.equal(await page.isChecked("#edit-event-referral-approved"), true);
  assert.equal(await page.isChecked("#edit-event-user-deactivated"), false);
  assert.equal(await page.isChecked("#edit-enabled"), true);
  await checkPage(page, "webhooks-endpoint-new", { axe: true });

  // The button makes a delivery and opens its page: nothing has tried it yet (the worker is off).
  assert.equal(await submitForm(page, "#send-test", `${base}test/`), 303);
  assert.match(new URL(page.url()).pathname, new RegExp(`^${base}deliveries/\\d+/$`));
  assert.match(await text(page, "#webhook-notice"), /^A test event \(webhook\.test\) is on its way/);
  assert.match(await text(page, "#event-id"), /^evt_[0-9a-f]{32}$/);
  // As rendered: indented on lines of their own, not run together (white-space is kept).
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is under test
  const body = await page.locator("#delivery-body").innerText();
  assert.match(body, /^\{\n {2}"id": "evt_[0-9a-f]{32}",\n {2}"type": "webhook\.test",/);
  assert.equal(await text(page, "#no-attempts"), "No attempt yet: the delivery waits for its first.");
  await checkPage(page, "webhooks-delivery-pending", { axe: true });
  const testDelivery = Number(new URL(page.url()).pathname.split("/")[5]);

  // More deliveries, as the worker would leave them: one delivered after a failure, one failed.
  const more: number[] = [];
  for (let i = 0; i < 3; i++) {
    const rows = await queryRows<{ id: number }>(
      t.deps.db,
      sql`WITH ev AS (INSERT INTO events (type, data)
            VALUES ('referral.approved', ${JSON.stringify({ inviter_id: 12, invitee_id: 34 + i, by: "staff" })}::jsonb)
            RETURNING id)
          INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT id, ${endpointId} FROM ev RETURNING id`,
    );
    more.push(Number(rows[0]?.id));
  }
  const [delivered, failed] = [more[0] ?? 0, more[1] ?? 0];
  const excerpt =
    `<!doctype html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1>\n<p>${"upstream-connection-reset-by-peer-".repeat(24)}</p></body></html>`.slice(
      0,
      1024,
    );
  await t.deps.db.execute(sql`INSERT INTO webhook_attempts (delivery_id, attempted_at, duration_ms, status_code, response_excerpt, error)
    VALUES (${delivered}, now() - interval '2 minutes', 10000, NULL, '', 'timed out after 10 seconds (no answer from 127.0.0.1:9)'),
           (${delivered}, now() - interval '1 minute', 412, 502, ${excerpt}, 'the answer was 502 Bad Gateway'),
           (${failed}, now(), 95, 500, '{"error":"internal"}', 'the answer was 500 Internal Server Error')`);
  // The attempt that succeeded is kept on the delivery's own row, as the worker keeps it.
  await t.deps.db.execute(sql`UPDATE webhook_deliveries SET status = 'delivered', attempts = 3, last_status_code = 200,
    last_duration_ms = 38, last_response_excerpt = 'ok', last_attempt_at = now(), delivered_at = now() WHERE id = ${delivered}`);
  await t.deps.db.execute(sql`UPDATE webhook_deliveries SET status = 'failed', attempts = 1, last_status_code = 500,
    last_error = 'the answer was 500 Internal Server Error', last_attempt_at = now() WHERE id = ${failed}`);

  await page.goto(`${baseUrl}${base}`);
  const log = () => page.locator("#delivery-log td[data-label=Status] .badge").allTextContents();
  assert.deepEqual(await log(), ["pending", "failed", "delivered", "pending"], "newest first");
  assert.match(
    await text(page, "#delivery-log tbody tr:last-child td[data-label='Event id']"),
    /^evt_[0-9a-f]{32}$/,
  );
  assert.equal(
    await text(page, "#delivery-log tbody tr:last-child td[data-label='Last answer']"),
    "not tried yet",
  );
  // On a desktop the time and the event stay on one line each.
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const label of ["Created", "Event", "'Event id'"]) {
    const lines = await page
      .locator(`#delivery-log tbody td[data-label=${label}] > *:first-child`)
      .evaluateAll((cells) => cells.map((cell) => cell.getClientRects().length));
    assert.deepEqual(new Set(lines), new Set([1]), `${label} cells wrap at 1280 px`);
  }
  await page.setViewportSize({ width: 375, height: 900 });
  await checkPage(page, "webhooks-endpoint-deliveries", { axe: true });

  await clickAndLoad(page, "[role=group] >> text=Failed");
  assert.deepEqual(await log(), ["failed"]);
  assert.match(await text(page, "#delivery-log"), /the answer was 500 Internal Server Error/);

  await page.goto(`${baseUrl}${base}deliveries/${delivered}/`);
  assert.equal(await page.locator("li.attempt").count(), 3);
  assert.match(
    await text(page, "li.attempt:nth-child(1)"),
    /Answer ?none Took ?10,000 ms Error ?timed out after 10 seconds/,
  );
  assert.equal(
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text, line breaks kept, is under test
    await page.locator("li.attempt:nth-child(2) pre").innerText(),
    excerpt,
    "escaped, shown as text",
  );
  assert.equal(
    await page.locator("li.attempt:nth-child(2) pre script, li.attempt:nth-child(2) pre h1").count(),
    0,
  );
  await checkPage(page, "webhooks-delivery-attempts", { axe: true });

  // Send again: a new delivery of the same event, its page opened.
  const eventId = await text(page, "#event-id");
  assert.equal(await submitForm(page, "#send-again", `${base}deliveries/${delivered}/resend/`), 303);
  assert.notEqual(new URL(page.url()).pathname, `${base}deliveries/${delivered}/`);
  assert.equal(await text(page, "#event-id"), eventId);
  assert.match(await text(page, "#webhook-notice"), /with the same webhook-id/);
  assert.notEqual(testDelivery, delivered);

  // A new secret, shown once, with how long the old one still signs.
  await page.goto(`${baseUrl}${base}`);
  const before = await storedSecret(LONG_URL);
  assert.equal(await submitForm(page, "#rotate-secret", `${base}rotate/`), 200);
  const secret = await text(page, "#webhook-secret");
  assert.match(secret, SECRET);
  assert.notEqual(secret, before);
  assert.equal(secret, await storedSecret(LONG_URL));
  assert.match(
    await text(page, "#overlap-note"),
    /^The previous secret keeps signing beside this one for 24 hours, until \d{4}-/,
  );
  await checkPage(page, "webhooks-rotated", { axe: true });
  await clickAndLoad(page, "text=Go to the endpoint");
  assert.match(await text(page, "#previous-secret-note"), /^The previous secret signs until/);
  assert.equal((await page.content()).includes(secret), false);
});

test("an endpoint the service turned off is an alert on the list and its page; turning it on clears it", {
  skip,
}, async () => {
  const page = await browser.newPage(375);
  await logIn(page);
  // A second endpoint, as the worker leaves one that failed for WEBHOOK_GIVE_UP_HOURS.
  const response = await page.request.post(`${baseUrl}/admin/webhooks/`, {
    headers: {
      accept: "application/json",
      "x-csrftoken": (await page.context().cookies()).find((c) => c.name === "csrftoken")?.value ?? "",
    },
    data: {
      url: "http://127.0.0.1:9/broken-receiver",
      description: "Old billing hook",
      event_types: ["balance.adjusted"],
    },
  });
  assert.equal(response.status(), 201);
  const { id } = (await response.json()) as { id: number };
  await t.deps.db.execute(sql`UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing',
    failing_since = now() - interval '72 hours' WHERE id = ${id}`);

  await page.goto(`${baseUrl}/admin/webhooks/`);
  assert.match(
    await text(page, "#failing-alert"),
    /^An endpoint was turned off http:\/\/127\.0\.0\.1:9\/broken-receiver was turned off after failing for 72 hours \(failing since \d{4}-/,
  );
  assert.deepEqual(await page.locator("#endpoints td[data-label=Status]").allTextContents(), [
    "turned off: failing",
    "on",
  ]);
  await checkPage(page, "webhooks-turned-off", { axe: true });

  await clickAndLoad(page, "#failing-alert a");
  assert.equal(new URL(page.url()).pathname, `/admin/webhooks/${id}/`);
  assert.match(await text(page, "#failing-alert"), /^Turned off after failing for 72 hours/);
  assert.equal(await page.isChecked("#edit-enabled"), false);
  await checkPage(page, "webhooks-endpoint-turned-off", { axe: true });

  await page.check("#edit-enabled");
  assert.equal(
    await submitForm(page, "#edit-endpoint-form button[type=submit]", `/admin/webhooks/${id}/`),
    303,
  );
  assert.equal(await text(page, "#webhook-notice"), "The endpoint is saved.");
  assert.equal(await page.locator("#failing-alert").count(), 0);
  await page.goto(`${baseUrl}/admin/webhooks/`);
  assert.equal(await page.locator("#failing-alert").count(), 0);

  // Deleting: a confirmation page, then the list without it.
  await page.goto(`${baseUrl}/admin/webhooks/${id}/`);
  await clickAndLoad(page, "#delete-endpoint");
  assert.equal(await text(page, "main h1"), "Delete this endpoint?");
  await checkPage(page, "webhooks-delete-confirm", { axe: true });
  assert.equal(
    await submitForm(page, "#confirm-form button[type=submit]", `/admin/webhooks/${id}/delete/`),
    303,
  );
  assert.match(await text(page, "#webhook-notice"), /^The endpoint is deleted/);
  assert.equal(await page.locator("#endpoints tbody tr").count(), 1);
});
