// Concurrent sign-ups never lose or double a reward, a race for one username gives one success and
// clean 400s, never a 500, and a link that moved on while a sign-up hashed is counted exactly.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { Client, createTestApp, gatedHasher, SLOW_PASSWORD, type TestApp, tokenOf } from "../support/app.js";
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

/**
 * An inviter, and a sign-up through their link whose hash is held: when this returns, the late
 * sign-up has read the inviter's count and waits in the hasher until `release()`.
 */
async function signUpHeldInTheHasher(prefix: string) {
  const { hasher, hashing, release } = gatedHasher();
  const held = await createTestApp({}, { hasher });
  const inviter = new Client(held.app);
  await inviter.signUp(`${prefix}_inviter`);
  const token = tokenOf((await inviter.dashboard()).referral_link);
  const late = new Client(held.app);
  await late.get("/signup/");
  const lateResponse = late.signUp(`${prefix}_late`, SLOW_PASSWORD, token);
  await hashing;
  return {
    ...held,
    inviter,
    token,
    late,
    lateResponse,
    release,
    async close() {
      release();
      await held.close();
      await hasher.close();
    },
  };
}

const MOVED_ON = 7;

test(`a sign-up whose inviter's count moved on by ${MOVED_ON} while it hashed is counted exactly`, async () => {
  const held = await signUpHeldInTheHasher("span");
  try {
    for (let i = 0; i < MOVED_ON; i++) {
      const response = await new Client(held.app).signUp(`span_${i}`, "correct horse battery", held.token);
      assert.equal(response.statusCode, 200);
    }
    held.release();
    assert.equal((await held.lateResponse).statusCode, 200);

    const count = MOVED_ON + 1;
    const me = await held.inviter.dashboard();
    assert.equal(me.referred_count, count);
    assert.equal(me.balance_cents, Math.floor(count / 5) * 1000);
    assert.equal((await held.late.dashboard()).balance_cents, 1000);
    const rewards = await ledgerOf(held.deps.db, "span_inviter");
    assert.deepEqual(
      rewards.map((r) => r.referralCount),
      Array.from({ length: Math.floor(count / 5) }, (_, k) => 5 * (k + 1)),
    );
    assert.deepEqual(await balanceMismatches(held.deps.db), []);
  } finally {
    await held.close();
  }
});

test("a sign-up whose inviter was deactivated while it hashed goes ahead without the referral", async () => {
  const held = await signUpHeldInTheHasher("gone");
  try {
    await held.deps.db.execute(sql`UPDATE users SET is_active = false WHERE username = 'gone_inviter'`);
    held.release();

    assert.equal((await held.lateResponse).statusCode, 200);
    assert.equal((await held.late.dashboard()).balance_cents, 0);
    const [row] = await queryRows<{ invited_by_id: string | null; referred_count: number }>(
      held.deps.db,
      sql`SELECT (SELECT invited_by_id FROM users WHERE username = 'gone_late') AS invited_by_id,
                 (SELECT referred_count FROM users WHERE username = 'gone_inviter') AS referred_count`,
    );
    assert.deepEqual(row, { invited_by_id: null, referred_count: 0 });
    assert.deepEqual(await balanceMismatches(held.deps.db), []);
  } finally {
    await held.close();
  }
});
