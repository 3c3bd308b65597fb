// Password recovery through a real SMTP server: the same answer whether or not the address is known,
// a link that works once and for an hour, throttled per address and per account (a throttled request
// is answered the same and sends nothing), and a reset that ends every other session.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { Client, createTestApp, type TestApp } from "../support/app.js";
import { addressesOf, linkIn, outboxCount, tokenInLink } from "../support/email.js";
import { HOUR_MS, type TestClock, testClock } from "../support/referrals.js";
import { type ReceivedMail, startSmtpServer, type TestSmtpServer } from "../support/smtp.js";

const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "plum orbit lantern 74";
const WINDOW_MS = 15 * 60_000;

let smtp: TestSmtpServer;
let t: TestApp;
let clock: TestClock;
/** Messages a test has read already: each is read once. */
const read = new Set<ReceivedMail>();

before(async () => {
  smtp = await startSmtpServer();
  clock = testClock();
  t = await createTestApp({ SMTP_URL: smtp.url }, { clock });
});

after(async () => {
  await t.close();
  await smtp.close();
});

/**
 * The next message not read yet to this address with this subject, once the app has handed it over.
 * A message that never comes fails the test after a while rather than hanging it.
 */
async function nextMail(to: string, subject: string): Promise<ReceivedMail> {
  await t.app.sendPendingEmail();
  let timer: NodeJS.Timeout | undefined;
  const mail = await Promise.race([
    smtp.waitFor((m) => m.to === to && m.parsed.subject === subject && !read.has(m)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no "${subject}" message to ${to}`)), 20_000);
    }),
  ]).finally(() => clearTimeout(timer));
  read.add(mail);
  return mail;
}

/** A user whose address is verified through the link that arrived by email; their client is logged in. */
async function verifiedUser(username: string, email: string): Promise<Client> {
  const client = new Client(t.app);
  const signedUp = await client.postJson("/signup/", {
    username,
    password1: PASSWORD,
    password2: PASSWORD,
    email,
  });
  assert.equal(signedUp.statusCode, 200);
  const link = linkIn(await nextMail(email, "Confirm your email address"), "/email/verify/");
  assert.equal((await client.postJson("/email/verify/", { token: tokenInLink(link) })).statusCode, 200);
  return client;
}

function forgot(email: string, client = new Client(t.app)) {
  return client.postJson("/password/forgot/", { email });
}

async function resetLinkFor(email: string): Promise<string> {
  return linkIn(await nextMail(email, "Reset your password"), "/password/reset/");
}

async function resetTokensOf(username: string): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM email_tokens
      WHERE purpose = 'reset' AND user_id = (SELECT id FROM users WHERE username = ${username})`,
  );
  return Number(rows[0]?.n ?? 0);
}

test("the login page links to the form, which answers the same whether or not the address is known", async () => {
  assert.match(
    (await new Client(t.app, "html").get("/login/")).body,
    /href="\/password\/forgot\/"[^>]*>Forgot your password\?/,
  );
  assert.equal((await new Client(t.app, "html").get("/password/forgot/")).statusCode, 200);
  await verifiedUser("known_kim", "kim@example.com");
  clock.nextHour();
  const known = await forgot("kim@example.com");
  const unknown = await forgot("nobody@example.com");
  assert.equal(known.statusCode, 200);
  assert.equal(unknown.statusCode, 200);
  assert.equal(known.body, "{}");
  assert.equal(unknown.body, known.body);
  // The pages differ only by the address typed.
  const page = async (email: string) =>
    (await new Client(t.app, "html").post("/password/forgot/", { email })).body
      .replaceAll(email, "ADDRESS")
      .replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "");
  assert.equal(await page("kim@example.com"), await page("nobody@example.com"));
  assert.match(
    await page("nobody@example.com"),
    /If an account has\s+<strong>ADDRESS<\/strong> as its confirmed address/,
  );
  // Only the known address got a message.
  const mail = await nextMail("kim@example.com", "Reset your password");
  assert.match(mail.parsed.text ?? "", /works once, for one hour/);
  assert.equal(await outboxCount(t.deps.db, "nobody@example.com", "password_reset"), 0);
  // A malformed address is a field error, which says nothing about accounts.
  const bad = await forgot("kim");
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json(), { email: ["Enter a valid email address."] });
  assert.deepEqual((await forgot("")).json(), { email: ["This field is required."] });
});

test("the link arrives over SMTP and works once: a new password, every other session ended, logged in", async () => {
  const laptop = await verifiedUser("reset_rae", "rae@example.com");
  const phone = new Client(t.app);
  assert.equal((await phone.logIn("reset_rae")).statusCode, 200);
  clock.nextHour();
  assert.equal((await forgot("rae@EXAMPLE.com")).statusCode, 200);
  // The link in the message, as the person's browser would open it.
  const link = await resetLinkFor("rae@example.com");
  const token = tokenInLink(link);
  const browser = new Client(t.app, "html");
  const form = await browser.get(link);
  assert.equal(form.statusCode, 200);
  assert.match(form.body, /Choose a new password/);
  assert.match(form.body, /id="id_username"[^>]*value="reset_rae"|value="reset_rae"[^>]*id="id_username"/s);
  assert.match(form.body, /password-meter\.js/);
  assert.deepEqual((await new Client(t.app).get(`/password/reset/?token=${token}`)).json(), {
    valid: true,
    username: "reset_rae",
  });

  // The sign-up's rules: every problem under the Password field, the form shown again, the link kept.
  const weak = await browser.post("/password/reset/", {
    token,
    password1: "reset_rae1",
    password2: "reset_rae1",
  });
  assert.equal(weak.statusCode, 400);
  assert.match(weak.body, /The password is too similar to the username\./);
  const weakJson = await new Client(t.app).postJson("/password/reset/", {
    token,
    password1: "123",
    password2: "123",
  });
  assert.equal(weakJson.statusCode, 400);
  assert.deepEqual(Object.keys(weakJson.json()), ["password2"]);

  const done = await browser.post("/password/reset/", {
    token,
    password1: NEW_PASSWORD,
    password2: NEW_PASSWORD,
  });
  assert.equal(done.statusCode, 302);
  assert.equal(done.headers.location, "/");
  assert.equal((await browser.get("/")).statusCode, 200, "logged in with a new session");
  // Every other session of the account ended.
  assert.equal((await laptop.get("/", { accept: "application/json" })).statusCode, 401);
  assert.equal((await phone.get("/", { accept: "application/json" })).statusCode, 401);
  // The new password logs in; the old one no longer does.
  assert.equal((await new Client(t.app).logIn("reset_rae", NEW_PASSWORD)).statusCode, 200);
  assert.equal((await new Client(t.app).logIn("reset_rae", PASSWORD)).statusCode, 400);
  // Once only.
  const again = await new Client(t.app).postJson("/password/reset/", {
    token,
    password1: "another fine password",
    password2: "another fine password",
  });
  assert.equal(again.statusCode, 400);
  assert.deepEqual(Object.keys(again.json()), ["token"]);
  const page = await new Client(t.app, "html").get(link);
  assert.equal(page.statusCode, 404);
  assert.match(page.body, /used already\s+or has expired/);
  assert.match(page.body, /href="\/password\/forgot\/"/);
});

test("a reset makes the account's other reset links stop working", async () => {
  await verifiedUser("two_links_tia", "tia@example.com");
  clock.nextHour();
  await forgot("tia@example.com");
  const first = tokenInLink(await resetLinkFor("tia@example.com"));
  await forgot("tia@example.com");
  const second = tokenInLink(await resetLinkFor("tia@example.com"));
  const client = new Client(t.app);
  const done = await client.postJson("/password/reset/", {
    token: second,
    password1: NEW_PASSWORD,
    password2: NEW_PASSWORD,
  });
  assert.equal(done.statusCode, 200);
  assert.equal(done.body, "{}");
  assert.equal((await client.get("/", { accept: "application/json" })).statusCode, 200);
  assert.deepEqual((await client.get(`/password/reset/?token=${first}`)).json(), { valid: false });
});

test("a link works for an hour by the app's clock", async () => {
  await verifiedUser("late_lea", "lea@example.com");
  clock.nextHour();
  await forgot("lea@example.com");
  const token = tokenInLink(await resetLinkFor("lea@example.com"));
  clock.advance(HOUR_MS - 60_000);
  assert.deepEqual((await new Client(t.app).get(`/password/reset/?token=${token}`)).json(), {
    valid: true,
    username: "late_lea",
  });
  clock.advance(2 * 60_000);
  assert.deepEqual((await new Client(t.app).get(`/password/reset/?token=${token}`)).json(), { valid: false });
  const late = await new Client(t.app).postJson("/password/reset/", {
    token,
    password1: NEW_PASSWORD,
    password2: NEW_PASSWORD,
  });
  assert.equal(late.statusCode, 400);
  assert.equal(
    (await new Client(t.app).logIn("late_lea", PASSWORD)).statusCode,
    200,
    "the password is unchanged",
  );
});

test("per address: 3 links a window, then the same answer and nothing sent, until the next window", async () => {
  await verifiedUser("many_mo", "mo@example.com");
  clock.nextHour();
  const before = await outboxCount(t.deps.db, "mo@example.com", "password_reset");
  // One address, however its domain is written.
  for (const typed of ["mo@example.com", "mo@EXAMPLE.com", "mo@Example.Com", "mo@example.COM"]) {
    const response = await forgot(typed);
    assert.equal(response.statusCode, 200);
    assert.equal(response.body, "{}");
  }
  assert.equal(await outboxCount(t.deps.db, "mo@example.com", "password_reset"), before + 3);
  // An unknown address is counted the same way, and still answered the same.
  for (let i = 0; i < 4; i++) assert.equal((await forgot("ghost@example.com")).body, "{}");
  clock.advance(WINDOW_MS);
  await forgot("mo@example.com");
  assert.equal(await outboxCount(t.deps.db, "mo@example.com", "password_reset"), before + 4);
});

test("per account: 3 links a window, even through a newly verified address", async () => {
  const client = await verifiedUser("acct_ada", "ada@one.example");
  clock.nextHour();
  for (let i = 0; i < 3; i++) await forgot("ada@one.example");
  assert.equal(await resetTokensOf("acct_ada"), 3);
  // The account changes its verified address: the account's own limit still holds.
  assert.equal((await client.postJson("/email/", { email: "ada@two.example" })).statusCode, 200);
  const link = linkIn(await nextMail("ada@two.example", "Confirm your email address"), "/email/verify/");
  assert.equal((await client.postJson("/email/verify/", { token: tokenInLink(link) })).statusCode, 200);
  assert.equal((await forgot("ada@two.example")).body, "{}");
  assert.equal(await resetTokensOf("acct_ada"), 3);
  assert.equal(await outboxCount(t.deps.db, "ada@two.example", "password_reset"), 0);
  // Other accounts are not held by it.
  await verifiedUser("acct_abe", "abe@example.com");
  await forgot("abe@example.com");
  assert.equal(await resetTokensOf("acct_abe"), 1);
});

test("only a verified address of an open account gets a link", async () => {
  // Waiting for confirmation: nothing.
  const client = new Client(t.app);
  await client.postJson("/signup/", {
    username: "unverified_uma",
    password1: PASSWORD,
    password2: PASSWORD,
    email: "uma@example.com",
  });
  clock.nextHour();
  assert.equal((await forgot("uma@example.com")).body, "{}");
  assert.equal(await resetTokensOf("unverified_uma"), 0);
  // Deactivated: nothing.
  await verifiedUser("closed_cy", "cy@example.com");
  await t.deps.db.execute(sql`UPDATE users SET is_active = false WHERE username = 'closed_cy'`);
  assert.equal((await forgot("cy@example.com")).body, "{}");
  assert.equal(await resetTokensOf("closed_cy"), 0);
});

test("an account imported with an unusable password can set one through a link", async () => {
  await verifiedUser("imported_ivy", "ivy@example.com");
  await t.deps.db.execute(
    sql`UPDATE users SET password_hash = '!unusable-from-django' WHERE username = 'imported_ivy'`,
  );
  assert.equal((await new Client(t.app).logIn("imported_ivy", PASSWORD)).statusCode, 400);
  clock.nextHour();
  await forgot("ivy@example.com");
  const token = tokenInLink(await resetLinkFor("ivy@example.com"));
  const reset = await new Client(t.app).postJson("/password/reset/", {
    token,
    password1: NEW_PASSWORD,
    password2: NEW_PASSWORD,
  });
  assert.equal(reset.statusCode, 200);
  assert.equal((await new Client(t.app).logIn("imported_ivy", NEW_PASSWORD)).statusCode, 200);
  assert.equal((await addressesOf(t.deps.db, "imported_ivy")).email, "ivy@example.com");
});

test("a wrong or malformed token shows the page that offers a new link", async () => {
  for (const token of ["B".repeat(43), "nope", ""]) {
    const page = await new Client(t.app, "html").get(`/password/reset/?token=${token}`);
    assert.equal(page.statusCode, 404);
    assert.match(page.body, /Ask for a new link/);
    const posted = await new Client(t.app, "html").post("/password/reset/", {
      token,
      password1: NEW_PASSWORD,
      password2: NEW_PASSWORD,
    });
    assert.equal(posted.statusCode, 400);
    assert.match(posted.body, /Ask for a new link/);
  }
});
