// Debian's Chromium driven by playwright-core, for the browser tests in test/e2e/.
// Without /usr/bin/chromium the tests skip with a message, unless REQUIRE_CHROMIUM=1 (CI) makes that a failure.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS_DIR = join(process.cwd(), "test-artifacts");

/** Why the browser tests cannot run here, or null when they can. Throws when CI requires them. */
export function browserSkipReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const reason = `no Chromium at ${CHROMIUM_PATH}: browser tests skipped (apt-get install chromium)`;
  if (process.env.REQUIRE_CHROMIUM === "1") throw new Error(`REQUIRE_CHROMIUM=1 but ${reason}`);
  console.log(`# ${reason}`);
  return reason;
}

/** The browser scripts the pages load are bundled by scripts/build-client.mjs (npm test does it first). */
export function ensureClientBuilt(): void {
  if (!existsSync(join(process.cwd(), "dist/client/password-meter.js"))) {
    execFileSync(process.execPath, ["scripts/build-client.mjs"], { stdio: "inherit" });
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // As root in a sandbox-less container, and without the background traffic a closed network refuses.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The browser a test file uses, and the pages it opened; close() shuts them all. */
export interface TestBrowser {
  /**
   * A page in a context of its own, `width` px wide; `initScript` runs before the page's own
   * scripts. A script error or a Content-Security-Policy violation on it fails the test.
   */
  newPage(width?: number, initScript?: string): Promise<Page>;
  close(): Promise<void>;
}

/**
 * `watchCsp: false` for a file that opens the share card's PNG itself: Chromium's image viewer
 * styles the picture inline, which the response's CSP (meant for pages) reports as a violation.
 */
export async function openTestBrowser(options: { watchCsp?: boolean } = {}): Promise<TestBrowser> {
  const watchCsp = options.watchCsp ?? true;
  const browser = await launchBrowser();
  const contexts: BrowserContext[] = [];
  return {
    async newPage(width = 1280, initScript) {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      contexts.push(context);
      if (initScript) await context.addInitScript(initScript);
      const page = await context.newPage();
      page.on("pageerror", (error) => assert.fail(`script error on ${page.url()}: ${error.message}`));
      page.on("console", (message) => {
        if (watchCsp && message.type() === "error" && /Content Security Policy/i.test(message.text())) {
          assert.fail(`CSP violation on ${page.url()}: ${message.text()}`);
        }
      });
      return page;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
    },
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * WCAG 2.1 A and AA violations axe-core finds on the page. axe is evaluated through the DevTools
 * protocol, so the page's own Content-Security-Policy (no inline script) stays on.
 */
export async function accessibilityViolations(page: Page): Promise<AxeViolation[]> {
  // A string is evaluated as a script in the page, as a DevTools console would.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const w = window as unknown as { axe?: { run(ctx: unknown, opts: unknown): Promise<unknown> } };
    if (!w.axe) throw new Error("axe-core did not load into the page");
    const result = (await w.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    })) as { violations: unknown[]; passes: unknown[] };
    // A run that checked nothing would pass anything: make sure rules really ran.
    if (result.passes.length === 0) throw new Error("axe-core checked no rule on this page");
    return result.violations as AxeViolation[];
  });
}

export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)
    .join("\n");
}

/** Screenshots of the page as it is, on a phone (375 px) and on a desktop (1280 px). */
export async function screenshotBothWidths(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const before = page.viewportSize();
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: join(ARTIFACTS_DIR, `${name}-${width}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

/** True when the page is wider than the window: something would scroll sideways on a phone. */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

/**
 * The page has no accessibility violations, fits a phone (360 px unless told) without scrolling
 * sideways, and is photographed at 375 and 1280 px into test-artifacts/. With `phoneAxe`, axe runs
 * again at the phone's width.
 */
export async function checkPage(
  page: Page,
  name: string,
  phone: { width?: number; axe?: boolean } = {},
): Promise<void> {
  const width = phone.width ?? 360;
  const violations = await accessibilityViolations(page);
  assert.deepEqual(violations, [], `${name}: ${describeViolations(violations)}`);
  const before = page.viewportSize();
  await page.setViewportSize({ width, height: 800 });
  assert.equal(await overflowsHorizontally(page), false, `${name} scrolls sideways at ${width} px`);
  if (phone.axe) {
    const phoneViolations = await accessibilityViolations(page);
    assert.deepEqual(phoneViolations, [], `${name} at ${width} px: ${describeViolations(phoneViolations)}`);
  }
  if (before) await page.setViewportSize(before);
  await screenshotBothWidths(page, name);
}

/** The page's next document, once it commits (not a document already there). */
function nextDocument(page: Page): Promise<unknown> {
  return page.waitForEvent("framenavigated", (frame) => frame === page.mainFrame());
}

/**
 * Clicks what leads to another page (a link, a form's button) and waits until that page has loaded.
 * Not `Promise.all([page.waitForLoadState("load"), page.click(…)])`: the page already loaded
 * satisfies that at once, and on a slow machine the test went on to read the old page.
 */
export async function clickAndLoad(page: Page, selector: string): Promise<void> {
  await Promise.all([nextDocument(page), page.click(selector)]);
  await page.waitForLoadState("load");
}

/** Clicks a form's submit button and waits for the page its POST to `path` answers with. */
export async function submitForm(page: Page, selector: string, path: string): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === path),
    nextDocument(page),
    page.click(selector),
  ]);
  await page.waitForLoadState("load");
  return response.status();
}
