// Deleting one's own account: refused without the right password; afterwards the name, addresses,
// sessions, devices and address sightings are gone, the link is invalid, login fails, the name is
// free for someone new, and the ledger and the programme's totals are exactly as before.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import { outboxToken } from "../support/email.js";
import { balanceMismatches, pendingMismatches } from "../support/ledger.js";
import { freshClient } from "../support/referrals.js";

const PASSWORD = "correct horse battery";
const WRONG = "Your password was entered incorrectly. Please enter it again.";

let t: TestApp;
let staff: Client;

before(async () => {
  // The shared-address signal on, so sign-ups leave address sightings to erase.
  t = await createTestApp({ REFERRAL_SHARED_ADDRESS_DAYS: "30" });
  staff = await staffClient(t, "del_staff");
});
after(async () => t.close());

async function rowsFor(userId: number): Promise<Record<string, number>> {
  const rows = await queryRows<Record<string, number>>(
    t.deps.db,
    sql`SELECT
      (SELECT count(*) FROM sessions WHERE user_id = ${userId})::int AS sessions,
      (SELECT count(*) FROM known_devices WHERE user_id = ${userId})::int AS devices,
      (SELECT count(*) FROM address_sightings WHERE user_id = ${userId})::int AS sightings,
      (SELECT count(*) FROM email_tokens WHERE user_id = ${userId})::int AS tokens,
      (SELECT count(*) FROM outbox_messages WHERE user_id = ${userId})::int AS messages`,
  );
  return rows[0] ?? {};
}

async function ledgerTotals(): Promise<{ entries: number; posted: number; pending: number }> {
  const rows = await queryRows<{ entries: number; posted: number; pending: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS entries,
      coalesce(sum(amount_cents) FILTER (WHERE status = 'posted'), 0)::int AS posted,
      coalesce(sum(amount_cents) FILTER (WHERE status = 'pending'), 0)::int AS pending
      FROM ledger_entries`,
  );
  return rows[0] as { entries: number; posted: number; pending: number };
}

async function programmeTotals(): Promise<unknown> {
  const response = await staff.get("/admin/stats/?days=30");
  assert.equal(response.statusCode, 200);
  const { top_referrers: _, ...totals } = response.json();
  return totals;
}

/** An inviter with an address waiting, five friends (a reward), two sessions and a pending message. */
async function inviterWithHistory(name: string) {
  const client = new Client(t.app);
  const signedUp = await client.postJson("/signup/", {
    username: name,
    password1: PASSWORD,
    password2: PASSWORD,
    email: `${name}@example.com`,
  });
  assert.equal(signedUp.statusCode, 200);
  const link = (await client.dashboard()).referral_link;
  // Friends from addresses of their own: the shared-address signal (on here) holds none of them.
  for (let i = 1; i <= 5; i++) await freshClient(t).signUp(`${name}_friend_${i}`, PASSWORD, tokenOf(link));
  const second = new Client(t.app);
  assert.equal((await second.logIn(name)).statusCode, 200);
  return { client, second, link, id: await userIdOf(t.deps.db, name) };
}

test("a wrong or missing password is refused, and changes nothing", async () => {
  const { client, id } = await inviterWithHistory("keep_kay");
  const before = await rowsFor(id);
  const wrong = await client.postJson("/account/delete/", { password: "not my password" });
  assert.equal(wrong.statusCode, 400);
  assert.deepEqual(wrong.json(), { password: [WRONG] });
  assert.deepEqual((await client.postJson("/account/delete/", {})).json(), {
    password: ["This field is required."],
  });
  assert.deepEqual(await rowsFor(id), before);
  assert.equal((await client.get("/", { accept: "application/json" })).statusCode, 200);
  // The page says it beside the field.
  const html = new Client(t.app, "html");
  await html.post("/login/", { username: "keep_kay", password: PASSWORD });
  const page = await html.post("/account/delete/", { password: "nope" });
  assert.equal(page.statusCode, 400);
  assert.match(page.body, /Your password was entered incorrectly/);
  // Without a session: 401, and the page sends people to log in.
  assert.equal(
    (await new Client(t.app).postJson("/account/delete/", { password: PASSWORD })).statusCode,
    401,
  );
  assert.equal((await new Client(t.app, "html").get("/account/delete/")).statusCode, 302);
});

test("deletion erases the person and keeps the ledger, the programme's totals and the referrals true", async () => {
  const { client, second, link, id } = await inviterWithHistory("gone_gus");
  const ledgerBefore = await ledgerTotals();
  const totalsBefore = await programmeTotals();
  const balanceBefore = (await client.dashboard()).balance_cents;
  assert.ok(balanceBefore > 0);
  assert.ok(((await rowsFor(id)).sightings ?? 0) > 0, "the sign-up left an address sighting");

  const deleted = await client.postJson("/account/delete/", { password: PASSWORD });
  assert.equal(deleted.statusCode, 200);
  assert.equal(deleted.body, "{}");
  // The cookie is cleared, and every session of the account is gone.
  assert.equal((await client.get("/", { accept: "application/json" })).statusCode, 401);
  assert.equal((await second.get("/", { accept: "application/json" })).statusCode, 401);
  assert.deepEqual(await rowsFor(id), { sessions: 0, devices: 0, sightings: 0, tokens: 0, messages: 0 });

  const [row] = await queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`SELECT username, username_key, email, email_key, pending_email, is_active, is_staff,
      deleted_at IS NOT NULL AS deleted, left(password_hash, 1) AS hash_start, referral_token, balance_cents::int AS balance
      FROM users WHERE id = ${id}`,
  );
  assert.equal(row?.username, `deleted-${id}`);
  assert.equal(row?.username_key, `deleted-${id}`);
  assert.equal(row?.email, null);
  assert.equal(row?.email_key, null);
  assert.equal(row?.pending_email, null);
  assert.equal(row?.is_active, false);
  assert.equal(row?.deleted, true);
  assert.equal(row?.hash_start, "!");
  assert.notEqual(row?.referral_token, tokenOf(link));
  // The amounts stay: the row's balance, the ledger, and what the programme reports.
  assert.equal(row?.balance, balanceBefore);
  assert.deepEqual(await ledgerTotals(), ledgerBefore);
  assert.deepEqual(await balanceMismatches(t.deps.db), []);
  assert.deepEqual(await pendingMismatches(t.deps.db), []);
  assert.deepEqual(await programmeTotals(), totalsBefore);

  // Nobody logs in as the old name; the link is invalid; the name is free again.
  assert.equal((await new Client(t.app).logIn("gone_gus")).statusCode, 400);
  assert.deepEqual((await new Client(t.app).get(`/signup/?ref=${tokenOf(link)}`)).json(), {
    referral: { valid: false },
  });
  const page = await new Client(t.app, "html").get(`/signup/?ref=${tokenOf(link)}`);
  assert.match(page.body, /id="invalid-link"/);
  const newcomer = new Client(t.app);
  assert.equal((await newcomer.signUp("gone_gus")).statusCode, 200);
  assert.notEqual(await userIdOf(t.deps.db, "gone_gus"), id);
  // The friends keep their credit and their referral, now from an anonymous inviter.
  const friend = await queryRows<{ inviter: string }>(
    t.deps.db,
    sql`SELECT i.username AS inviter FROM users f JOIN users i ON i.id = f.invited_by_id WHERE f.username = 'gone_gus_friend_1'`,
  );
  assert.equal(friend[0]?.inviter, `deleted-${id}`);

  // An audit row says it happened.
  const audit = await queryRows<{ action: string; actor_id: string; target_user_id: string }>(
    t.deps.db,
    sql`SELECT action, actor_id, target_user_id FROM audit_log WHERE target_user_id = ${id} ORDER BY id DESC LIMIT 1`,
  );
  assert.equal(audit[0]?.action, "account_deleted");
  assert.equal(Number(audit[0]?.actor_id), id);
});

test("the pages: the dashboard links to a page that explains, asks for the password and confirms", async () => {
  const html = new Client(t.app, "html");
  await html.post("/signup/", { username: "page_pia", password1: PASSWORD, password2: PASSWORD });
  const page = await html.get("/account/delete/");
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /cannot be undone/);
  assert.match(page.body, /autocomplete="current-password"/);
  assert.match(page.body, /name="csrfmiddlewaretoken"/);
  const done = await html.post("/account/delete/", { password: PASSWORD });
  assert.equal(done.statusCode, 200);
  assert.match(done.body, /id="account-deleted"/);
  assert.equal((await html.get("/")).statusCode, 302);
  // Without the CSRF token nothing happens.
  const other = new Client(t.app);
  await other.signUp("csrf_cal");
  const forged = await t.app.inject({
    method: "POST",
    url: "/account/delete/",
    headers: {
      accept: "application/json",
      "content-type": "application/json",
      cookie: [...other.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
    },
    payload: JSON.stringify({ password: PASSWORD }),
  });
  assert.equal(forged.statusCode, 403);
  assert.equal((await other.get("/", { accept: "application/json" })).statusCode, 200);
});

test("messages not yet sent to a deleted account are dropped; sent ones keep no address", async () => {
  const client = new Client(t.app);
  await client.postJson("/signup/", {
    username: "mail_mia",
    password1: PASSWORD,
    password2: PASSWORD,
    email: "mia@example.com",
  });
  const token = await outboxToken(t.deps.db, "mia@example.com");
  assert.equal((await client.postJson("/email/verify/", { token })).statusCode, 200);
  const id = await userIdOf(t.deps.db, "mail_mia");
  // One message as if sent already, one waiting.
  await t.deps.db.execute(
    sql`UPDATE outbox_messages SET status = 'sent', params = '{}' WHERE user_id = ${id}`,
  );
  await t.deps.db.execute(
    sql`INSERT INTO outbox_messages (kind, user_id, to_address, params, status)
      VALUES ('reward_earned', ${id}, 'mia@example.com', '{"amount_cents": 1000}', 'pending')`,
  );
  assert.equal((await client.postJson("/account/delete/", { password: PASSWORD })).statusCode, 200);
  const left = await queryRows<{ status: string; to_address: string }>(
    t.deps.db,
    sql`SELECT status, to_address FROM outbox_messages WHERE user_id = ${id}`,
  );
  assert.deepEqual(left, [{ status: "sent", to_address: "" }]);
  // The address is free for someone else to verify.
  const other = new Client(t.app);
  await other.postJson("/signup/", {
    username: "mail_max",
    password1: PASSWORD,
    password2: PASSWORD,
    email: "mia@example.com",
  });
  const next = await outboxToken(t.deps.db, "mia@example.com");
  assert.equal((await other.postJson("/email/verify/", { token: next })).statusCode, 200);
});

test("staff see the account plainly as deleted, and cannot reactivate it", async () => {
  const client = new Client(t.app);
  await client.signUp("staffview_sol");
  const id = await userIdOf(t.deps.db, "staffview_sol");
  assert.equal((await client.postJson("/account/delete/", { password: PASSWORD })).statusCode, 200);
  const json = (await staff.get(`/admin/users/${id}/`)).json();
  assert.equal(json.user.username, `deleted-${id}`);
  assert.equal(typeof json.user.deleted_at, "string");
  assert.equal(json.user.is_active, false);
  const staffHtml = new Client(t.app, "html");
  await staffHtml.post("/login/", { username: "del_staff", password: PASSWORD });
  const page = (await staffHtml.get(`/admin/users/${id}/`)).body;
  assert.match(page, /<span class="badge text-bg-dark">deleted<\/span>/);
  assert.match(page, /id="deleted-notice"/);
  assert.doesNotMatch(page, /id="referral-link"/, "the new token is shown nowhere");
  assert.doesNotMatch(page, /reactivate/);
  const reactivate = await staff.postJson(`/admin/users/${id}/reactivate/`, {});
  assert.equal(reactivate.statusCode, 400);
  const [row] = await queryRows<{ is_active: boolean }>(
    t.deps.db,
    sql`SELECT is_active FROM users WHERE id = ${id}`,
  );
  assert.equal(row?.is_active, false);
  assert.match((await staffHtml.get("/admin/users/?q=deleted-")).body, /text-bg-dark">deleted/);
});

test("wrong passwords count on the login's failure counters", async () => {
  const strict = await createTestApp({ LOGIN_FAILURES_PER_WINDOW: "2" });
  try {
    const client = new Client(strict.app);
    await client.signUp("guess_gil");
    for (let i = 0; i < 2; i++) {
      assert.equal((await client.postJson("/account/delete/", { password: `guess ${i}` })).statusCode, 400);
    }
    const throttled = await client.postJson("/account/delete/", { password: PASSWORD });
    assert.equal(throttled.statusCode, 429);
    assert.equal((await client.get("/", { accept: "application/json" })).statusCode, 200);
  } finally {
    await strict.close();
  }
});
