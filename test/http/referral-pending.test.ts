// What people see of a held referral: the sign-up link's check, the pending credit on the dashboard,
// in the history and in the inviter's list, and what approval or rejection changes; never a signal.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { keptMail } from "../../src/email/outbox.js";
import { noEventWake } from "../../src/events/events.js";
import { signalNames } from "../../src/referrals/integrity.js";
import { approveReferral, rejectReferral } from "../../src/referrals/review.js";
import { userIdOf } from "../support/admin.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";

let t: TestApp;
let token: string;
const review = () => ({
  db: t.deps.db,
  program: t.config.program,
  integrity: t.config.integrity,
  clock: Date.now,
  mail: keptMail,
  webhooks: noEventWake,
});

before(async () => {
  t = await createTestApp();
  const alice = new Client(t.app);
  await alice.signUp("alice");
  token = tokenOf((await alice.dashboard()).referral_link);
});
after(async () => t.close());

/** A referral the self-referral signal holds: the inviter's own browser signs a newcomer up. */
async function heldSignup(inviter: string, invitee: string): Promise<Client> {
  const browser = new Client(t.app);
  await browser.logIn(inviter);
  const link = tokenOf((await browser.dashboard()).referral_link);
  await browser.post("/logout/");
  const response = await browser.signUp(invitee, "correct horse battery", link);
  assert.equal(response.statusCode, 200, response.body);
  return browser;
}

async function referralOf(invitee: string): Promise<{ id: number; status: string; signals: string[] }> {
  const [row] = await queryRows<{ id: number; status: string; signals: string[] }>(
    t.deps.db,
    sql`SELECT r.id::int AS id, r.status, r.signals FROM referrals r JOIN users u ON u.id = r.invitee_id
        WHERE u.username = ${invitee}`,
  );
  if (!row) throw new Error(`no referral of ${invitee}`);
  return row;
}

function mentionsNoSignal(text: string): void {
  for (const name of signalNames) assert.ok(!text.includes(name), `the page names the signal ${name}`);
  assert.ok(!/same address|velocity|self-referral|rejections/i.test(text), "the page hints at a signal");
}

test("GET /signup/ in JSON: {} without ref, and whether a link is valid, whose, and what it gives", async () => {
  const anyone = new Client(t.app);
  assert.deepEqual((await anyone.get("/signup/")).json(), {});
  assert.deepEqual((await anyone.get(`/signup/?ref=${token}`)).json(), {
    referral: { valid: true, inviter: "alice", reward_cents: 1000 },
  });
  assert.deepEqual((await anyone.get("/signup/?ref=AAAAAAAAAAAAAAAAAAAAAA")).json(), {
    referral: { valid: false },
  });
  assert.deepEqual((await anyone.get("/signup/?ref=not-a-token")).json(), { referral: { valid: false } });
});

test("a link that is not valid says so on the sign-up page, and the person can still sign up", async () => {
  const page = new Client(t.app, "html");
  const response = await page.get("/signup/?ref=AAAAAAAAAAAAAAAAAAAAAA");
  assert.equal(response.statusCode, 200);
  assert.match(response.body, /id="invalid-link"/);
  assert.match(response.body, /You can still sign up/);
  assert.doesNotMatch(response.body, /name="ref"/);
  const valid = await page.get(`/signup/?ref=${token}`);
  assert.doesNotMatch(valid.body, /invalid-link/);
  assert.match(valid.body, /alice<\/strong> invited you/);
  const signedUp = await new Client(t.app).signUp(
    "no_link_person",
    "correct horse battery",
    "AAAAAAAAAAAAAAAAAAAAAA",
  );
  assert.equal(signedUp.statusCode, 200);
});

test("a held sign-up: $10 pending, not in the balance, said in neutral words everywhere", async () => {
  const bob = await heldSignup("alice", "bob_held");
  assert.deepEqual((await referralOf("bob_held")).signals, ["self_referral"]);
  const me = (await bob.get("/")).json();
  assert.equal(me.balance_cents, 0);
  assert.equal(me.pending_cents, 1000);
  assert.equal(me.balance, 0);

  const html = new Client(t.app, "html");
  html.cookies.set("sessionid", bob.cookies.get("sessionid") as string);
  const dashboard = (await html.get("/")).body;
  assert.match(dashboard, /id="pending-notice"/);
  assert.match(dashboard, /Your \$10\.00 welcome credit is being checked, usually within a day/);
  assert.match(dashboard, /\+ \$10\.00 pending/);
  mentionsNoSignal(dashboard);

  const history = (await bob.get("/history/")).json();
  assert.equal(history.pending_cents, 1000);
  assert.deepEqual(
    history.entries.map((e: { status: string; amount_cents: number; balance_after_cents: number }) => [
      e.status,
      e.amount_cents,
      e.balance_after_cents,
    ]),
    [["pending", 1000, 0]],
  );
  assert.match(history.entries[0].reason, /being checked, usually within a day/);
  mentionsNoSignal(JSON.stringify(history));
  const historyPage = (await html.get("/history/")).body;
  assert.match(historyPage, /\(\$10\.00 pending\)/);
  mentionsNoSignal(historyPage);

  const alice = new Client(t.app);
  await alice.logIn("alice");
  const mine = (await alice.get("/referrals/")).json();
  const entry = mine.referrals.find((r: { username: string }) => r.username === "bob_held");
  assert.equal(entry.status, "held");
  assert.equal(mine.held_count, 1);
  assert.equal((await alice.dashboard()).referred_count, 0, "a held referral does not count toward the five");
  const aliceHtml = new Client(t.app, "html");
  aliceHtml.cookies.set("sessionid", alice.cookies.get("sessionid") as string);
  const aliceDashboard = (await aliceHtml.get("/")).body;
  assert.match(aliceDashboard, /1 person who joined through your link is being checked/);
  mentionsNoSignal(aliceDashboard);
});

test("approval posts the credit: the balance, the history and the inviter's list follow", async () => {
  const carol = await heldSignup("alice", "carol_held");
  const referral = await referralOf("carol_held");
  const done = await approveReferral(review(), {
    referralId: referral.id,
    staffId: null,
    reason: null,
    staffNote: "looked fine",
  });
  assert.equal(done?.bonusPostedCents, 1000);
  const me = (await carol.get("/")).json();
  assert.deepEqual([me.balance_cents, me.pending_cents], [1000, 0]);
  const history = (await carol.get("/history/")).json();
  assert.deepEqual([history.entries[0].status, history.entries[0].balance_after_cents], ["posted", 1000]);
  assert.doesNotMatch(history.entries[0].reason, /being checked/);
  assert.equal((await referralOf("carol_held")).status, "approved");
});

test("rejection voids the credit and shows the reason, never the staff note", async () => {
  const dave = await heldSignup("alice", "dave_held");
  const referral = await referralOf("dave_held");
  await rejectReferral(review(), {
    referralId: referral.id,
    staffId: await userIdOf(t.deps.db, "alice"),
    reason: "one account per person",
    staffNote: "same device as the inviter, third time",
  });
  const me = (await dave.get("/")).json();
  assert.deepEqual([me.balance_cents, me.pending_cents], [0, 0]);
  const history = (await dave.get("/history/")).json();
  assert.equal(history.entries[0].status, "void");
  assert.match(history.entries[0].reason, /not approved: one account per person/);
  const html = new Client(t.app, "html");
  html.cookies.set("sessionid", dave.cookies.get("sessionid") as string);
  const dashboard = (await html.get("/")).body;
  assert.match(dashboard, /Your welcome credit was not approved: one account per person/);
  assert.doesNotMatch(dashboard, /third time/);
  assert.doesNotMatch((await html.get("/history/")).body, /third time/);

  const alice = new Client(t.app);
  await alice.logIn("alice");
  const mine = (await alice.get("/referrals/")).json();
  const entry = mine.referrals.find((r: { username: string }) => r.username === "dave_held");
  assert.deepEqual([entry.status, entry.reason], ["rejected", "one account per person"]);
  assert.ok(mine.rejected_count >= 1);
  assert.doesNotMatch(JSON.stringify(mine), /third time/);
});
