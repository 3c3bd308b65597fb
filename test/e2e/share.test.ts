// Sharing in a real browser: the link card comes first on a phone and on the right on a desktop,
// the message can be edited and every share link follows it, the native share sheet is used where
// the browser has one (stubbed here: Chromium on Linux has none) and hidden where it has not, and
// the preview picture a pasted link shows. Checked with axe-core and photographed into test-artifacts/.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { oneAddressSignals } from "../support/app.js";
import {
  ARTIFACTS_DIR,
  browserSkipReason,
  checkPage,
  ensureClientBuilt,
  openTestBrowser,
  screenshotBothWidths,
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
  browser = await openTestBrowser({ watchCsp: false });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await server?.stop();
});

async function signUp(page: Page, username: string, path = "/signup/"): Promise<void> {
  await page.goto(`${server.baseUrl}${path}`);
  await page.fill("#id_username", username);
  await page.fill("#id_password1", PASSWORD);
  await page.fill("#id_password2", PASSWORD);
  await Promise.all([page.waitForURL(`${server.baseUrl}/`), page.click("button[type=submit]")]);
}

async function logIn(page: Page, username: string): Promise<void> {
  await page.goto(`${server.baseUrl}/login/`);
  await page.fill("#id_username", username);
  await page.fill("#id_password", PASSWORD);
  await Promise.all([page.waitForURL(`${server.baseUrl}/`), page.click("button[type=submit]")]);
}

type Box = { x: number; y: number; width: number; height: number };

async function box(page: Page, selector: string): Promise<Box> {
  const found = await page.locator(selector).boundingBox();
  assert.ok(found, `${selector} is laid out`);
  return found;
}

// Init scripts are given as text: functions compiled by tsx carry helpers (__name) the page lacks.

/** Stands in for a phone's share sheet: remembers what it was given, in window.sharedData. */
const stubNativeShare = `
  window.sharedData = [];
  Object.defineProperty(Navigator.prototype, "share", {
    configurable: true,
    value: async (data) => { window.sharedData.push(data); },
  });`;

/** A browser without a share sheet, whatever this Chromium has. */
const removeNativeShare = "delete Navigator.prototype.share;";

let link = "";

test("the link card comes first on a phone, beside the balance on a desktop; Share is hidden without a share sheet", {
  skip,
}, async () => {
  const page = await browser.newPage(375, removeNativeShare);
  await signUp(page, "sharer_sam");
  link = await page.inputValue("#referral-link");
  assert.match(link, /\/signup\/\?ref=[A-Za-z0-9_-]{22}$/);

  // A phone: the link card above the balance, the share links on screen once scrolled to.
  const phoneLink = await box(page, "#link-card");
  const phoneBalance = await box(page, "[aria-labelledby=balance-heading]");
  assert.ok(
    phoneLink.y + phoneLink.height <= phoneBalance.y,
    "the link card is above the balance on a phone",
  );
  assert.ok(phoneLink.y < 400, "the link card starts near the top of a phone's screen");

  // A desktop: two columns, the balance on the left and the link card on the right, side by side.
  await page.setViewportSize({ width: 1280, height: 900 });
  const deskLink = await box(page, "#link-card");
  const deskBalance = await box(page, "[aria-labelledby=balance-heading]");
  assert.ok(deskBalance.x + deskBalance.width <= deskLink.x, "the balance is left of the link card");
  assert.ok(Math.abs(deskBalance.y - deskLink.y) < 2, "both columns start on one line");

  assert.equal(await page.isVisible("#share-native"), false, "no share sheet: no Share button");
  for (const service of ["email", "sms", "whatsapp", "x", "linkedin", "facebook"]) {
    assert.ok(await page.isVisible(`a[data-share=${service}]`), `${service} is shown`);
    assert.equal(await page.getAttribute(`a[data-share=${service}]`, "rel"), "noopener");
  }
  assert.equal(
    await page.getAttribute("a[data-share=whatsapp]", "href"),
    `https://wa.me/?text=${encodeURIComponent(`Join me on the Referral programme: sign up with my link and get $10. ${link}`)}`,
  );
  await checkPage(page, "share-dashboard");
});

test("editing the message rewrites every link; the keyboard reaches each one with a visible focus", {
  skip,
}, async () => {
  const page = await browser.newPage(375, removeNativeShare);
  await logIn(page, "sharer_sam");
  const message = "Salut ! Rejoins-moi & gagne 10 $ : 100% vrai #promo";
  await page.fill("#share-message", message);
  const whatsapp = (await page.getAttribute("a[data-share=whatsapp]", "href")) ?? "";
  assert.equal(new URL(whatsapp).searchParams.get("text"), `${message} ${link}`, "the link goes along");
  assert.equal(whatsapp, `https://wa.me/?text=${encodeURIComponent(`${message} ${link}`)}`);
  const x = new URL((await page.getAttribute("a[data-share=x]", "href")) ?? "");
  assert.equal(x.searchParams.get("text"), message);
  assert.equal(x.searchParams.get("url"), link);
  assert.equal(
    await page.getAttribute("a[data-share=email]", "href"),
    `mailto:?subject=${encodeURIComponent("Join me on the Referral programme")}&body=${encodeURIComponent(`${message} ${link}`)}`,
  );
  assert.equal(
    await page.getAttribute("a[data-share=sms]", "href"),
    `sms:?&body=${encodeURIComponent(`${message} ${link}`)}`,
  );

  // From the message, Tab goes through the links in order; each shows where focus is.
  await page.focus("#share-message");
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return {
        share: el.dataset.share ?? el.id,
        name: el.textContent?.replace(/\s+/g, " ").trim(),
        ring: style.boxShadow !== "none" || (style.outlineStyle !== "none" && style.outlineWidth !== "0px"),
      };
    });
    assert.ok(focused.ring, `${focused.share} shows its focus`);
    names.push(focused.name ?? "");
  }
  assert.deepEqual(names, [
    "Share by Email",
    "Share by SMS",
    "Share on WhatsApp",
    "Share on X",
    "Share on LinkedIn",
    "Share on Facebook",
  ]);
  await page.focus("a[data-share=whatsapp]");
  await screenshotBothWidths(page, "share-edited-focus");
});

test("with a share sheet, Share opens it with the edited message and the link", { skip }, async () => {
  const page = await browser.newPage(375, stubNativeShare);
  await logIn(page, "sharer_sam");
  assert.ok(await page.isVisible("#share-native"), "the Share button is shown");
  await checkPage(page, "share-native");
  await page.fill("#share-message", `Come and join! ${link}`);
  await page.click("#share-native");
  const shared = await page.evaluate(() => (window as unknown as { sharedData: unknown[] }).sharedData);
  assert.deepEqual(shared, [
    { title: "Join me on the Referral programme", text: "Come and join!", url: link },
  ]);

  // By keyboard too: Enter on the focused button.
  await page.focus("#share-native");
  await page.keyboard.press("Enter");
  assert.equal(
    await page.evaluate(() => (window as unknown as { sharedData: unknown[] }).sharedData.length),
    2,
  );
  assert.equal(await page.textContent("#share-status"), "", "nothing went wrong");
});

test("a link pasted somewhere previews with the card image; the picture itself", { skip }, async () => {
  const page = await browser.newPage();
  await page.goto(link);
  const og = await page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll("meta[property^='og:'], meta[name^='twitter:']")].map((m) => [
        m.getAttribute("property") ?? m.getAttribute("name"),
        m.getAttribute("content"),
      ]),
    ),
  );
  assert.equal(og["og:title"], "sharer_sam invited you — get $10");
  assert.equal(og["twitter:card"], "summary_large_image");
  const image = og["og:image"] as string;
  assert.equal(image, link.replace("/signup/?ref=", "/signup/card.png?ref="));

  const response = await page.request.get(image);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()["content-type"], "image/png");
  const png = await response.body();
  assert.equal(png.readUInt32BE(16), 1200);
  assert.equal(png.readUInt32BE(20), 630);
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  writeFileSync(join(ARTIFACTS_DIR, "share-card.png"), png);
  const generic = await page.request.get(`${server.baseUrl}/signup/card.png?ref=AAAAAAAAAAAAAAAAAAAAAA`);
  writeFileSync(join(ARTIFACTS_DIR, "share-card-generic.png"), await generic.body());

  // Opened on its own, the picture shows under the page's security headers (CSP, nosniff).
  await page.goto(image);
  const drawn = await page.evaluate(() => {
    const img = document.querySelector("img");
    return img ? { width: img.naturalWidth, height: img.naturalHeight } : null;
  });
  assert.deepEqual(drawn, { width: 1200, height: 630 });
});
