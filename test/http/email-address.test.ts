// Email addresses: an optional one at sign-up (JSON and form), added or changed from the dashboard,
// used only once a link sent to it is confirmed (a page with a button: fetching the link changes
// nothing), unique once verified (the domain's case ignored), and the earlier clients unchanged.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { cleanUpExpired } from "../../src/accounts/housekeeping.js";
import { queryRows } from "../../src/db/connection.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import { addressesOf, outboxCount, outboxToken } from "../support/email.js";
import { HOUR_MS, type TestClock, testClock } from "../support/referrals.js";

const PASSWORD = "correct horse battery";
const TAKEN = "A user with that email address already exists.";
const INVALID = "Enter a valid email address.";

let t: TestApp;
let clock: TestClock;

before(async () => {
  clock = testClock();
  t = await createTestApp({}, { clock });
});
after(async () => t.close());

function signUpJson(client: Client, username: string, email?: unknown) {
  const body: Record<string, unknown> = { username, password1: PASSWORD, password2: PASSWORD };
  if (email !== undefined) body.email = email;
  return client.postJson("/signup/", body);
}

/** Signs up with an address and confirms it through the link in its message. */
async function verifiedUser(username: string, email: string): Promise<Client> {
  const client = new Client(t.app);
  assert.equal((await signUpJson(client, username, email)).statusCode, 200);
  const address = (await addressesOf(t.deps.db, username)).pendingEmail ?? "";
  const token = await outboxToken(t.deps.db, address);
  assert.equal((await client.postJson("/email/verify/", { token })).statusCode, 200);
  return client;
}

async function tokensOf(username: string): Promise<{ purpose: string; token_hash: string; used: boolean }[]> {
  return queryRows(
    t.deps.db,
    sql`SELECT purpose, token_hash, used_at IS NOT NULL AS used FROM email_tokens
      WHERE user_id = (SELECT id FROM users WHERE username = ${username}) ORDER BY id`,
  );
}

test("without an address, the earlier clients' sign-up and dashboard are as before, and nothing is sent", async () => {
  const client = new Client(t.app);
  const response = await signUpJson(client, "plain_pat");
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, "{}");
  const dashboard = (await client.get("/", { accept: "application/json" })).json();
  for (const key of [
    "referral_link",
    "balance",
    "balance_cents",
    "pending_cents",
    "referred_count",
    "referrals_until_next_reward",
    "link_opens",
    "joined_count",
    "rewards_earned",
  ]) {
    assert.ok(key in dashboard, key);
  }
  assert.equal(dashboard.email, null);
  assert.equal(dashboard.email_verified, false);
  assert.equal(dashboard.email_pending, null);
  assert.deepEqual(await tokensOf("plain_pat"), []);
  // An empty field is no address either, as a form without one sends it.
  assert.equal((await signUpJson(new Client(t.app), "plain_pia", "")).statusCode, 200);
  assert.equal((await addressesOf(t.deps.db, "plain_pia")).pendingEmail, null);
});

test("with an address (JSON), its link and message are written with the account, and nothing is verified yet", async () => {
  const client = new Client(t.app);
  const response = await signUpJson(client, "ann_json", " Ann.Lee@Example.COM ");
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, "{}");
  // As typed, the domain lower-cased; waiting, not verified.
  assert.deepEqual(await addressesOf(t.deps.db, "ann_json"), {
    email: null,
    emailKey: null,
    pendingEmail: "Ann.Lee@example.com",
  });
  const dashboard = (await client.get("/", { accept: "application/json" })).json();
  assert.equal(dashboard.email, "Ann.Lee@example.com");
  assert.equal(dashboard.email_verified, false);
  assert.equal(dashboard.email_pending, "Ann.Lee@example.com");
  const [row] = await tokensOf("ann_json");
  const token = await outboxToken(t.deps.db, "Ann.Lee@example.com");
  assert.equal(row?.purpose, "verify");
  assert.equal(row?.used, false);
  // Only a hash of the link's token is kept.
  assert.notEqual(row?.token_hash, token);
  assert.ok(!row?.token_hash.includes(token));
  assert.equal(await outboxCount(t.deps.db, "Ann.Lee@example.com", "verify_email"), 1);
});

test("with an address (the form), the dashboard says it waits for confirmation", async () => {
  const client = new Client(t.app, "html");
  const response = await client.post("/signup/", {
    username: "form_fay",
    password1: PASSWORD,
    password2: PASSWORD,
    email: "fay@example.org",
  });
  assert.equal(response.statusCode, 302);
  const page = (await client.get("/")).body;
  assert.match(page, /Waiting for\s+confirmation:\s+sent to <strong>fay@example\.org<\/strong>/);
  assert.match(page, /action="\/email\/"/);
  assert.match(page, /href="\/account\/delete\/"/);
});

test("a malformed address is a field error in Django's shape, with the other fields' errors, and writes nothing", async () => {
  const response = await signUpJson(new Client(t.app), "bad_bea", "not-an-address");
  assert.equal(response.statusCode, 400);
  assert.deepEqual(response.json(), { email: [INVALID] });
  const together = await new Client(t.app).postJson("/signup/", {
    username: "bad bea",
    password1: PASSWORD,
    password2: "other",
    email: "bea@",
  });
  assert.equal(together.statusCode, 400);
  assert.deepEqual(Object.keys(together.json()).sort(), ["email", "password2", "username"]);
  assert.deepEqual(together.json().email, [INVALID]);
  const long = await signUpJson(new Client(t.app), "bad_bob", `${"a".repeat(250)}@example.com`);
  assert.deepEqual(long.json(), { email: ["Ensure this value has at most 254 characters."] });
  const rows = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM users WHERE username IN ('bad_bea', 'bad_bob')`,
  );
  assert.equal(rows[0]?.n, 0);
  // The page keeps what was typed and says what is wrong beside the field.
  const page = await new Client(t.app, "html").post("/signup/", {
    username: "bad_bea",
    password1: PASSWORD,
    password2: PASSWORD,
    email: "bea@@example.com",
  });
  assert.equal(page.statusCode, 400);
  assert.match(page.body, /id="id_email_errors"[^>]*><div>Enter a valid email address\.<\/div>/);
  assert.match(page.body, /value="bea@@example\.com"/);
});

test("an address verified by another account is taken, whatever the case of its domain; one waiting is not", async () => {
  await verifiedUser("owner_olga", "olga@example.net");
  const taken = await signUpJson(new Client(t.app), "copy_carl", "olga@EXAMPLE.NET");
  assert.equal(taken.statusCode, 400);
  assert.deepEqual(taken.json(), { email: [TAKEN] });
  // Reported with a taken name, as Django reports its fields together.
  const both = await signUpJson(new Client(t.app), "owner_olga", "olga@example.net");
  assert.deepEqual(both.json(), { username: ["A user with that username already exists."], email: [TAKEN] });
  const page = await new Client(t.app, "html").post("/signup/", {
    username: "copy_carl",
    password1: PASSWORD,
    password2: PASSWORD,
    email: "olga@Example.net",
  });
  assert.equal(page.statusCode, 400);
  assert.match(page.body, /A user with that email address already exists\./);
  // Waiting for confirmation is no claim: someone else may give the same address.
  assert.equal((await signUpJson(new Client(t.app), "wait_wes", "shared@example.net")).statusCode, 200);
  assert.equal((await signUpJson(new Client(t.app), "wait_wyn", "shared@example.net")).statusCode, 200);
});

test("the link's page has a Confirm button and changes nothing; the button verifies, once", async () => {
  const client = new Client(t.app);
  await signUpJson(client, "link_lou", "lou@example.com");
  const token = await outboxToken(t.deps.db, "lou@example.com");
  const browser = new Client(t.app, "html");
  const page = await browser.get(`/email/verify/?token=${token}`);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<form method="post" action="\/email\/verify\/">/);
  assert.match(page.body, /Confirm my address/);
  assert.match(page.body, /lou@example\.com/);
  const asJson = await new Client(t.app).get(`/email/verify/?token=${token}`);
  assert.deepEqual(asJson.json(), { valid: true, email: "lou@example.com" });
  // Fetching the link (a scanner, a preview) verified nothing.
  assert.equal((await addressesOf(t.deps.db, "link_lou")).email, null);

  const confirmed = await browser.post("/email/verify/", { token });
  assert.equal(confirmed.statusCode, 200);
  assert.match(confirmed.body, /id="verify-done"/);
  assert.deepEqual(await addressesOf(t.deps.db, "link_lou"), {
    email: "lou@example.com",
    emailKey: "lou@example.com",
    pendingEmail: null,
  });
  const dashboard = (await client.get("/", { accept: "application/json" })).json();
  assert.equal(dashboard.email, "lou@example.com");
  assert.equal(dashboard.email_verified, true);
  assert.equal(dashboard.email_pending, null);

  // Used: the JSON answer refuses it; the page says the address is confirmed already.
  const again = await new Client(t.app).postJson("/email/verify/", { token });
  assert.equal(again.statusCode, 400);
  assert.deepEqual(Object.keys(again.json()), ["token"]);
  assert.deepEqual((await new Client(t.app).get(`/email/verify/?token=${token}`)).json(), { valid: false });
  assert.match((await browser.get(`/email/verify/?token=${token}`)).body, /is\s+your confirmed address/);
});

test("a wrong, malformed or missing token shows a clear page and verifies nothing", async () => {
  for (const token of ["A".repeat(43), "short", "", "%3Cscript%3E"]) {
    const page = await new Client(t.app, "html").get(`/email/verify/?token=${token}`);
    assert.equal(page.statusCode, 404, token);
    assert.match(page.body, /This link does not work/);
    const posted = await new Client(t.app).postJson("/email/verify/", { token });
    assert.equal(posted.statusCode, 400);
    assert.deepEqual(Object.keys(posted.json()), ["token"]);
  }
  const json = await new Client(t.app).postJson("/email/verify/", {});
  assert.equal(json.statusCode, 400);
});

test("a link works for 48 hours by the app's clock, then no more", async () => {
  await signUpJson(new Client(t.app), "slow_sam", "sam@example.com");
  const token = await outboxToken(t.deps.db, "sam@example.com");
  clock.advance(48 * HOUR_MS - 60_000);
  assert.deepEqual((await new Client(t.app).get(`/email/verify/?token=${token}`)).json(), {
    valid: true,
    email: "sam@example.com",
  });
  clock.advance(2 * 60_000);
  assert.deepEqual((await new Client(t.app).get(`/email/verify/?token=${token}`)).json(), { valid: false });
  assert.equal((await new Client(t.app).postJson("/email/verify/", { token })).statusCode, 400);
  assert.equal((await addressesOf(t.deps.db, "slow_sam")).email, null);
  // The dashboard says so, and offers the link again.
  const page = new Client(t.app, "html");
  await page.post("/login/", { username: "slow_sam", password: PASSWORD });
  assert.match((await page.get("/")).body, /has expired: send it again/);
  // A day later the housekeeping forgets the link (and the address it held); the state stays said.
  clock.advance(24 * HOUR_MS);
  const purged = await cleanUpExpired(t.deps.db, t.config, clock());
  assert.ok(purged.emailTokens >= 1);
  assert.deepEqual(await tokensOf("slow_sam"), []);
  assert.match((await page.get("/")).body, /has expired: send it again/);
});

test("a change keeps the verified address until the new one is confirmed; a newer link replaces an older", async () => {
  const client = await verifiedUser("mover_max", "max@old.example");
  const changed = await client.postJson("/email/", { email: "max@new.example" });
  assert.equal(changed.statusCode, 200);
  assert.deepEqual(changed.json(), {
    email: "max@old.example",
    email_verified: true,
    email_pending: "max@new.example",
  });
  assert.deepEqual(await addressesOf(t.deps.db, "mover_max"), {
    email: "max@old.example",
    emailKey: "max@old.example",
    pendingEmail: "max@new.example",
  });
  const first = await outboxToken(t.deps.db, "max@new.example");
  // A second change: the first link stops working.
  assert.equal((await client.postJson("/email/", { email: "max@newer.example" })).statusCode, 200);
  assert.deepEqual((await client.get(`/email/verify/?token=${first}`)).json(), { valid: false });
  const dashboard = (await client.get("/", { accept: "application/json" })).json();
  assert.equal(dashboard.email, "max@old.example");
  assert.equal(dashboard.email_pending, "max@newer.example");
  const second = await outboxToken(t.deps.db, "max@newer.example");
  assert.equal((await client.postJson("/email/verify/", { token: second })).statusCode, 200);
  assert.deepEqual(await addressesOf(t.deps.db, "mover_max"), {
    email: "max@newer.example",
    emailKey: "max@newer.example",
    pendingEmail: null,
  });
  // The old address is free again.
  assert.equal((await signUpJson(new Client(t.app), "after_abe", "max@old.example")).statusCode, 200);
});

test("the dashboard's form refuses a malformed address, the account's own, and another's verified one", async () => {
  const client = await verifiedUser("form_fred", "fred@example.com");
  await verifiedUser("other_ola", "ola@example.com");
  const cases: [unknown, string][] = [
    ["", "This field is required."],
    ["fred", INVALID],
    ["fred@EXAMPLE.com", "This is already your verified address."],
    ["ola@example.com", TAKEN],
  ];
  for (const [email, message] of cases) {
    const response = await client.postJson("/email/", { email });
    assert.equal(response.statusCode, 400, String(email));
    assert.deepEqual(response.json(), { email: [message] });
  }
  // The page shows the form again with the message and what was typed.
  const html = new Client(t.app, "html");
  await html.post("/login/", { username: "form_fred", password: PASSWORD });
  const page = await html.post("/email/", { email: "ola@example.com" });
  assert.equal(page.statusCode, 400);
  assert.match(page.body, /A user with that email address already exists\./);
  assert.match(page.body, /value="ola@example\.com"/);
  // Without a session: the login page, and nothing sent.
  assert.equal((await new Client(t.app).postJson("/email/", { email: "x@example.com" })).statusCode, 401);
  // Through the form, a link is sent and the page says so.
  const sent = await html.post("/email/", { email: "fred@elsewhere.example" });
  assert.equal(sent.statusCode, 303);
  assert.equal(sent.headers.location, "/email/?sent=1");
  assert.match(
    (await html.get("/email/?sent=1")).body,
    /We sent a link to\s+<strong>fred@elsewhere\.example<\/strong>/,
  );
});

test("two accounts confirming one address at once: one gets it, the other a clear message", async () => {
  const first = new Client(t.app);
  const second = new Client(t.app);
  await signUpJson(first, "race_ria", "race@example.com");
  const firstToken = await outboxToken(t.deps.db, "race@example.com");
  await signUpJson(second, "race_rob", "race@example.com");
  const secondToken = await outboxToken(t.deps.db, "race@example.com");
  const answers = await Promise.all([
    first.postJson("/email/verify/", { token: firstToken }),
    second.postJson("/email/verify/", { token: secondToken }),
  ]);
  assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 400]);
  const refused = answers.find((r) => r.statusCode === 400);
  assert.deepEqual(refused?.json(), { email: [TAKEN] });
  const owners = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM users WHERE email_key = 'race@example.com'`,
  );
  assert.equal(owners[0]?.n, 1);
  // The loser's link, opened again, says so plainly.
  const loser = answers[0]?.statusCode === 400 ? firstToken : secondToken;
  const page = await new Client(t.app, "html").get(`/email/verify/?token=${loser}`);
  assert.match(page.body, /confirmed by another account first/);
});

test("links to one address are limited per window, so the form cannot flood someone's inbox", async () => {
  const client = new Client(t.app);
  await signUpJson(client, "flood_flo");
  clock.nextHour();
  for (let i = 0; i < 5; i++) {
    assert.equal(
      (await client.postJson("/email/", { email: "victim@example.com" })).statusCode,
      200,
      `#${i + 1}`,
    );
  }
  const refused = await client.postJson("/email/", { email: "victim@example.com" });
  assert.equal(refused.statusCode, 429);
  assert.ok(Number(refused.headers["retry-after"]) > 0);
  assert.equal(await outboxCount(t.deps.db, "victim@example.com", "verify_email"), 5);
  // Another account sending to the same address is held by the address's counter too.
  const other = new Client(t.app);
  await signUpJson(other, "flood_fin");
  assert.equal((await other.postJson("/email/", { email: "victim@example.com" })).statusCode, 429);
  // The next window lets it through again.
  clock.advance(15 * 60_000);
  assert.equal((await other.postJson("/email/", { email: "victim@example.com" })).statusCode, 200);
});

test("names that deleted accounts take cannot be signed up", async () => {
  const response = await signUpJson(new Client(t.app), "Deleted-12");
  assert.equal(response.statusCode, 400);
  assert.deepEqual(response.json(), { username: ["A user with that username already exists."] });
  assert.equal((await signUpJson(new Client(t.app), "deleted-twelve")).statusCode, 200);
});

test("through a referral link too: the address is written with the referral, and a taken one refuses both", async () => {
  const inviter = new Client(t.app);
  await signUpJson(inviter, "link_owner_lia");
  const ref = tokenOf((await inviter.dashboard()).referral_link);
  const friend = new Client(t.app, "json", "192.0.2.77");
  const joined = await friend.postJson(`/signup/?ref=${ref}`, {
    username: "link_friend_lee",
    password1: PASSWORD,
    password2: PASSWORD,
    email: "lee@example.com",
  });
  assert.equal(joined.statusCode, 200);
  assert.equal((await friend.dashboard()).balance_cents, 1000);
  assert.equal((await addressesOf(t.deps.db, "link_friend_lee")).pendingEmail, "lee@example.com");
  await verifiedUser("taken_tom", "tom@example.com");
  const refused = await new Client(t.app, "json", "192.0.2.78").postJson(`/signup/?ref=${ref}`, {
    username: "link_friend_lou",
    password1: PASSWORD,
    password2: PASSWORD,
    email: "tom@example.com",
  });
  assert.equal(refused.statusCode, 400);
  assert.deepEqual(refused.json(), { email: [TAKEN] });
  const referred = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM referrals WHERE inviter_id = (SELECT id FROM users WHERE username = 'link_owner_lia')`,
  );
  assert.equal(referred[0]?.n, 1);
});
