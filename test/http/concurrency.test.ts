// One transaction per sign-up: concurrent sign-ups never lose or double a reward, and a race for
// one username gives one success and clean 400s, never a 500.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";
import { onPostgres } from "../support/database.js";
import { balanceMismatches, ledgerOf } from "../support/ledger.js";

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

test(`40 concurrent sign-ups through one link pay the inviter exactly $80 and each invitee $10 (${onPostgres ? "PostgreSQL" : "PGlite"})`, async () => {
  const inviter = new Client(t.app);
  await inviter.signUp("busy_inviter");
  const token = tokenOf((await inviter.dashboard()).referral_link);

  const invitees = Array.from({ length: 40 }, () => new Client(t.app));
  await Promise.all(invitees.map((c) => c.get("/signup/")));
  const responses = await Promise.all(
    invitees.map((c, i) => c.signUp(`crowd_${i}`, "correct horse battery", token)),
  );
  assert.deepEqual(
    responses.map((r) => r.statusCode),
    Array(40).fill(200),
  );

  const me = await inviter.dashboard();
  assert.equal(me.balance, 80);
  assert.equal(me.balance_cents, 8000);
  assert.equal(me.referred_count, 40);
  const balances = await Promise.all(invitees.map((c) => c.dashboard()));
  assert.ok(balances.every((b) => b.balance_cents === 1000));
  const rewards = await ledgerOf(t.deps.db, "busy_inviter");
  assert.deepEqual(
    rewards.map((r) => r.referralCount),
    [5, 10, 15, 20, 25, 30, 35, 40],
  );
  assert.deepEqual(await balanceMismatches(t.deps.db), []);
});

test("10 concurrent sign-ups of one username give one success and nine 400s, never a 500", async () => {
  const clients = Array.from({ length: 10 }, () => new Client(t.app));
  await Promise.all(clients.map((c) => c.get("/signup/")));
  const responses = await Promise.all(clients.map((c, i) => c.signUp(i % 2 ? "Racer" : "racer")));
  const statuses = responses.map((r) => r.statusCode).sort();
  assert.deepEqual(statuses, [200, ...Array(9).fill(400)]);
  for (const r of responses.filter((r) => r.statusCode === 400)) {
    assert.deepEqual(r.json(), { username: ["A user with that username already exists."] });
  }
});

test("a username race through a link rolls back the inviter's count with the user", async () => {
  const inviter = new Client(t.app);
  await inviter.signUp("race_inviter");
  const token = tokenOf((await inviter.dashboard()).referral_link);
  const clients = Array.from({ length: 6 }, () => new Client(t.app));
  await Promise.all(clients.map((c) => c.get("/signup/")));
  const responses = await Promise.all(
    clients.map((c) => c.signUp("same_name", "correct horse battery", token)),
  );
  assert.equal(responses.filter((r) => r.statusCode === 200).length, 1);
  const me = await inviter.dashboard();
  assert.equal(me.referred_count, 1);
  assert.equal(me.balance_cents, 0);
  assert.deepEqual(await balanceMismatches(t.deps.db), []);
});
