// An account and its first session are written in one transaction: if the session cannot be
// written, the sign-up leaves nothing behind (no user, no credit, no referral counted).
import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "drizzle-orm";
import { Client, createTestApp, tokenOf } from "../support/app.js";
import { balanceMismatches, countRows } from "../support/ledger.js";

test("a sign-up whose session cannot be written is rolled back whole, and the retry succeeds", async () => {
  const t = await createTestApp();
  try {
    const alice = new Client(t.app);
    await alice.signUp("alice");
    const link = (await alice.dashboard()).referral_link;
    const before = await countRows(t.deps.db);

    await t.deps.db.execute(sql`CREATE FUNCTION refuse_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'sessions are unavailable'; END $$`);
    await t.deps.db.execute(
      sql`CREATE TRIGGER refuse_sessions BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION refuse_sessions()`,
    );
    const bob = new Client(t.app);
    const failed = await bob.signUp("bob", "correct horse battery", tokenOf(link));
    assert.ok(failed.statusCode >= 500, `${failed.statusCode} ${failed.body}`);
    assert.equal(bob.cookies.get("sessionid"), undefined, "no cookie for a session that does not exist");
    assert.deepEqual(
      await countRows(t.deps.db),
      before,
      "no user, ledger entry, session or throttle count was left behind",
    );
    assert.equal((await alice.dashboard()).referred_count, 0, "the referral was not counted");

    await t.deps.db.execute(sql`DROP TRIGGER refuse_sessions ON sessions`);
    await t.deps.db.execute(sql`DROP FUNCTION refuse_sessions()`);
    const retry = await bob.signUp("bob", "correct horse battery", tokenOf(link));
    assert.equal(retry.statusCode, 200, "the name is still free: the failed attempt left nothing");
    assert.equal((await bob.dashboard()).balance_cents, 1000);
    assert.equal((await alice.dashboard()).referred_count, 1);
    assert.equal(
      (await countRows(t.deps.db)).signupsCounted,
      before.signupsCounted + 1,
      "counted once, with the account",
    );
    assert.deepEqual(await balanceMismatches(t.deps.db), []);
  } finally {
    await t.close();
  }
});
