// Deciding held referrals: approval posts the invitee's bonus and counts toward the inviter's five,
// rejection voids it, a decision is taken once, a deactivated inviter's referral pays the invitee but
// counts for nobody, the hold for everyone ends on its own (but never for a referral a signal holds),
// and the monthly cap cuts inviter rewards. After every test the ledger is exact: each balance is the
// sum of the user's posted entries, and each pending total the sum of their pending ones.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setUserActive } from "../../src/admin/user-status.js";
import { approveDueReferrals, approveReferral, rejectReferral } from "../../src/referrals/review.js";
import type { AppDeps } from "../../src/web/app-deps.js";
import { auditRows, staffClient, userIdOf } from "../support/admin.js";
import { createTestApp, type TestApp } from "../support/app.js";
import { accountOf, entriesOf, ledgerMismatches, referralOf, referralRows } from "../support/ledger.js";
import {
  freshClient,
  HOUR_MS,
  inviter,
  reviewDeps,
  signUpThrough,
  type TestClock,
  testClock,
} from "../support/referrals.js";

/** A test app with `env` (and a test clock), checked for an exact ledger and closed after `body`. */
async function withApp(
  env: Record<string, string>,
  body: (app: TestApp, clock: TestClock) => Promise<void>,
  overrides: Partial<AppDeps> = {},
): Promise<void> {
  const clock = testClock();
  const app = await createTestApp(env, { clock, ...overrides });
  try {
    await body(app, clock);
    assert.deepEqual(await ledgerMismatches(app.deps.db), []);
  } finally {
    await app.close();
  }
}

const holdForEveryone = { REFERRAL_HOLD_HOURS: "24" };

/** `count` clean sign-ups through `token`, named `${prefix}_1` … */
async function signUps(app: TestApp, token: string, prefix: string, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `${prefix}_${i}`;
    await signUpThrough(freshClient(app), name, token);
    names.push(name);
  }
  return names;
}

const decision = (referralId: number, staffId: number | null = null) => ({
  referralId,
  staffId,
  reason: null,
  staffNote: null,
});

test("approval posts the bonus and counts toward five: the 5th approval pays the inviter $10, exactly once", async () => {
  await withApp(holdForEveryone, async (app) => {
    await staffClient(app, "rv_staff");
    const staffId = await userIdOf(app.deps.db, "rv_staff");
    const alice = await inviter(app, "rv_alice");
    const names = await signUps(app, alice.token, "rv", 6);
    const deps = reviewDeps(app);
    for (const [i, name] of names.slice(0, 5).entries()) {
      const referral = await referralOf(app.deps.db, name);
      assert.equal(referral.status, "held");
      const approved = await approveReferral(deps, {
        referralId: referral.id,
        staffId,
        reason: "Looks fine.",
        staffNote: "checked",
      });
      assert.ok(approved);
      assert.equal(approved.bonusPostedCents, 1000);
      assert.equal(approved.counted, true);
      assert.deepEqual(
        approved.inviterRewards.map((r) => r.amountCents),
        i === 4 ? [1000] : [],
      );
      assert.equal((await referralOf(app.deps.db, name)).status, "approved");
      const invitee = await accountOf(app.deps.db, name);
      assert.deepEqual([invitee.balanceCents, invitee.pendingCents], [1000, 0]);
      assert.deepEqual(
        (await entriesOf(app.deps.db, name)).map((e) => [e.kind, e.amountCents, e.status]),
        [["invitee_bonus", 1000, "posted"]],
      );
      const me = await accountOf(app.deps.db, "rv_alice");
      assert.equal(me.referredCount, i + 1);
      assert.equal(me.balanceCents, i === 4 ? 1000 : 0);
    }
    // Approving the fifth again changes nothing.
    const fifth = await referralOf(app.deps.db, "rv_5");
    assert.equal(await approveReferral(deps, decision(fifth.id, staffId)), null);
    assert.deepEqual(
      (await entriesOf(app.deps.db, "rv_alice")).map((e) => [e.kind, e.amountCents, e.referralCount]),
      [["inviter_reward", 1000, 5]],
    );
    assert.equal((await accountOf(app.deps.db, "rv_alice")).balanceCents, 1000);
    // The sixth is still held and still pending.
    const sixth = await accountOf(app.deps.db, "rv_6");
    assert.deepEqual([sixth.balanceCents, sixth.pendingCents], [0, 1000]);
    assert.equal((await accountOf(app.deps.db, "rv_alice")).referredCount, 5);
    // Staff's decisions are audited; each once.
    const audits = (await auditRows(app.deps.db)).filter((a) => a.action === "referral_approved");
    assert.equal(audits.length, 5);
    assert.ok(audits.every((a) => a.actor === "rv_staff"));
  });
});

test("rejection voids the pending bonus; deciding again, either way, is a no-op returning null", async () => {
  await withApp(holdForEveryone, async (app) => {
    const alice = await inviter(app, "rj_alice");
    await signUps(app, alice.token, "rj", 2);
    const deps = reviewDeps(app);
    const first = await referralOf(app.deps.db, "rj_1");
    const rejected = await rejectReferral(deps, {
      referralId: first.id,
      staffId: null,
      reason: "Not a real person.",
      staffNote: null,
    });
    assert.deepEqual(rejected, {
      inviterId: (await accountOf(app.deps.db, "rj_alice")).id,
      inviteeId: (await accountOf(app.deps.db, "rj_1")).id,
      voidedCents: 1000,
    });
    assert.equal((await referralOf(app.deps.db, "rj_1")).status, "rejected");
    const invitee = await accountOf(app.deps.db, "rj_1");
    assert.deepEqual([invitee.balanceCents, invitee.pendingCents], [0, 0]);
    assert.deepEqual(
      (await entriesOf(app.deps.db, "rj_1")).map((e) => [e.kind, e.amountCents, e.status]),
      [["invitee_bonus", 1000, "void"]],
    );
    assert.equal((await accountOf(app.deps.db, "rj_alice")).referredCount, 0);

    assert.equal(await rejectReferral(deps, decision(first.id)), null);
    assert.equal(await approveReferral(deps, decision(first.id)), null);
    assert.equal((await referralOf(app.deps.db, "rj_1")).status, "rejected");
    assert.deepEqual(
      [
        (await accountOf(app.deps.db, "rj_1")).balanceCents,
        (await accountOf(app.deps.db, "rj_alice")).referredCount,
      ],
      [0, 0],
    );

    const second = await referralOf(app.deps.db, "rj_2");
    assert.ok(await approveReferral(deps, decision(second.id)));
    assert.equal(await approveReferral(deps, decision(second.id)), null);
    assert.equal(await rejectReferral(deps, decision(second.id)), null);
    const approved = await accountOf(app.deps.db, "rj_2");
    assert.deepEqual([approved.balanceCents, approved.pendingCents], [1000, 0]);
    assert.equal((await accountOf(app.deps.db, "rj_alice")).referredCount, 1);
    // No such referral.
    assert.equal(await approveReferral(deps, decision(999_999)), null);
  });
});

test("an approval and a rejection of one referral racing: exactly one decides", async () => {
  await withApp(holdForEveryone, async (app) => {
    const alice = await inviter(app, "dr_alice");
    const names = await signUps(app, alice.token, "dr", 4);
    const deps = reviewDeps(app);
    for (const name of names) {
      const { id } = await referralOf(app.deps.db, name);
      const [a1, r1, a2, r2] = await Promise.all([
        approveReferral(deps, decision(id)),
        rejectReferral(deps, decision(id)),
        approveReferral(deps, decision(id)),
        rejectReferral(deps, decision(id)),
      ]);
      assert.equal([a1, r1, a2, r2].filter((d) => d !== null).length, 1, name);
      const status = (await referralOf(app.deps.db, name)).status;
      const account = await accountOf(app.deps.db, name);
      assert.equal(account.pendingCents, 0);
      assert.equal(account.balanceCents, status === "approved" ? 1000 : 0);
    }
    const approvedCount = (await referralRows(app.deps.db)).filter((r) => r.status === "approved").length;
    assert.equal((await accountOf(app.deps.db, "dr_alice")).referredCount, approvedCount);
  });
});

test("approving when the inviter was deactivated posts the invitee's bonus but counts for nobody", async () => {
  await withApp(holdForEveryone, async (app) => {
    await staffClient(app, "da_staff");
    const staffId = await userIdOf(app.deps.db, "da_staff");
    const alice = await inviter(app, "da_alice");
    await signUps(app, alice.token, "da", 5);
    const deps = reviewDeps(app);
    for (const name of ["da_1", "da_2", "da_3", "da_4"]) {
      assert.ok(await approveReferral(deps, decision((await referralOf(app.deps.db, name)).id)));
    }
    const aliceId = (await accountOf(app.deps.db, "da_alice")).id;
    await setUserActive(app.deps.db, staffId, aliceId, false);
    const fifth = await approveReferral(deps, decision((await referralOf(app.deps.db, "da_5")).id));
    assert.ok(fifth);
    assert.equal(fifth.counted, false);
    assert.deepEqual(fifth.inviterRewards, []);
    const invitee = await accountOf(app.deps.db, "da_5");
    assert.deepEqual([invitee.balanceCents, invitee.pendingCents], [1000, 0]);
    const me = await accountOf(app.deps.db, "da_alice");
    assert.deepEqual([me.referredCount, me.balanceCents], [4, 0]);
    // Reactivated later: the uncounted approval stays uncounted; the next one counts (the 5th).
    await setUserActive(app.deps.db, staffId, aliceId, true);
    assert.deepEqual((await accountOf(app.deps.db, "da_alice")).referredCount, 4);
    await signUpThrough(freshClient(app), "da_6", alice.token);
    const sixth = await approveReferral(deps, decision((await referralOf(app.deps.db, "da_6")).id));
    assert.equal(sixth?.counted, true);
    assert.deepEqual(
      sixth?.inviterRewards.map((r) => r.amountCents),
      [1000],
    );
    const after = await accountOf(app.deps.db, "da_alice");
    assert.deepEqual([after.referredCount, after.balanceCents], [5, 1000]);
  });
});

test("hold for everyone: held with hold_until; approveDueReferrals approves nothing before it and the referral at it", async () => {
  await withApp(holdForEveryone, async (app, clock) => {
    const alice = await inviter(app, "hf_alice");
    const signedUpAt = clock();
    await signUpThrough(freshClient(app), "hf_bob", alice.token);
    const held = await referralOf(app.deps.db, "hf_bob");
    assert.equal(held.status, "held");
    assert.deepEqual(held.signals, []);
    assert.equal(held.holdUntil?.getTime(), signedUpAt + 24 * HOUR_MS);
    const bob = await accountOf(app.deps.db, "hf_bob");
    assert.deepEqual([bob.balanceCents, bob.pendingCents], [0, 1000]);
    assert.equal((await accountOf(app.deps.db, "hf_alice")).referredCount, 0);

    const deps = reviewDeps(app, clock);
    assert.deepEqual(await approveDueReferrals(deps), []);
    clock.advance(24 * HOUR_MS - 1);
    assert.deepEqual(await approveDueReferrals(deps), []);
    assert.equal((await referralOf(app.deps.db, "hf_bob")).status, "held");
    clock.advance(1);
    const approved = await approveDueReferrals(deps);
    assert.equal(approved.length, 1);
    assert.equal(approved[0]?.inviteeId, bob.id);
    assert.equal((await referralOf(app.deps.db, "hf_bob")).status, "approved");
    const after = await accountOf(app.deps.db, "hf_bob");
    assert.deepEqual([after.balanceCents, after.pendingCents], [1000, 0]);
    assert.equal((await accountOf(app.deps.db, "hf_alice")).referredCount, 1);
    assert.deepEqual(await approveDueReferrals(deps), []);
  });
});

test("hold for everyone: a referral a signal also holds is not approved when the hold ends", async () => {
  await withApp(holdForEveryone, async (app, clock) => {
    const alice = await inviter(app, "hs_alice");
    await signUpThrough(alice.client, "hs_self", alice.token);
    await signUpThrough(freshClient(app), "hs_clean", alice.token);
    const flagged = await referralOf(app.deps.db, "hs_self");
    assert.deepEqual(flagged.signals, ["self_referral"]);
    assert.notEqual(flagged.holdUntil, null);
    clock.advance(48 * HOUR_MS);
    const approved = await approveDueReferrals(reviewDeps(app, clock));
    assert.deepEqual(
      approved.map((a) => a.inviteeId),
      [(await accountOf(app.deps.db, "hs_clean")).id],
    );
    assert.equal((await referralOf(app.deps.db, "hs_self")).status, "held");
    const self = await accountOf(app.deps.db, "hs_self");
    assert.deepEqual([self.balanceCents, self.pendingCents], [0, 1000]);
    assert.equal((await accountOf(app.deps.db, "hs_alice")).referredCount, 1);
  });
});

test("two approveDueReferrals running at once approve each due referral once", async () => {
  await withApp(holdForEveryone, async (app, clock) => {
    const alice = await inviter(app, "dd_alice");
    const bob = await inviter(app, "dd_bob");
    const aliceNames = await signUps(app, alice.token, "dd_a", 7);
    const bobNames = await signUps(app, bob.token, "dd_b", 5);
    // One more, not yet due when the jobs run.
    clock.advance(HOUR_MS);
    await signUpThrough(freshClient(app), "dd_late", alice.token);
    clock.advance(23 * HOUR_MS);
    const deps = reviewDeps(app, clock);
    const [first, second] = await Promise.all([approveDueReferrals(deps), approveDueReferrals(deps)]);
    assert.equal(first.length + second.length, 12);
    const invitees = [...first, ...second].map((a) => a.inviteeId);
    assert.equal(new Set(invitees).size, 12);
    for (const name of [...aliceNames, ...bobNames]) {
      assert.equal((await referralOf(app.deps.db, name)).status, "approved", name);
      const account = await accountOf(app.deps.db, name);
      assert.deepEqual([account.balanceCents, account.pendingCents], [1000, 0]);
      assert.equal((await entriesOf(app.deps.db, name)).length, 1);
    }
    assert.equal((await referralOf(app.deps.db, "dd_late")).status, "held");
    const a = await accountOf(app.deps.db, "dd_alice");
    const b = await accountOf(app.deps.db, "dd_bob");
    assert.deepEqual([a.referredCount, a.balanceCents], [7, 1000]);
    assert.deepEqual([b.referredCount, b.balanceCents], [5, 1000]);
    const rewards = [...first, ...second].flatMap((d) => d.inviterRewards.map((r) => r.amountCents));
    assert.deepEqual(rewards, [1000, 1000]);
  });
});

test("monthly cap at $10: the first reward is paid, the second is $0 with capped_cents 1000 and its referral capped", async () => {
  await withApp({ REFERRAL_MONTHLY_CAP_CENTS: "1000" }, async (app) => {
    const alice = await inviter(app, "mc_alice");
    await signUps(app, alice.token, "mc", 10);
    assert.deepEqual(
      (await entriesOf(app.deps.db, "mc_alice")).map((e) => [e.amountCents, e.cappedCents, e.signupUsername]),
      [
        [1000, null, "mc_5"],
        [0, 1000, "mc_10"],
      ],
    );
    const me = await accountOf(app.deps.db, "mc_alice");
    assert.deepEqual([me.referredCount, me.balanceCents], [10, 1000]);
    const referrals = await referralRows(app.deps.db);
    assert.deepEqual(
      referrals.filter((r) => r.capped).map((r) => r.invitee),
      ["mc_10"],
    );
    assert.ok(referrals.every((r) => r.status === "approved"));
    // The invitees are paid in full: the cap is on inviter rewards only.
    for (let i = 1; i <= 10; i++) assert.equal((await accountOf(app.deps.db, `mc_${i}`)).balanceCents, 1000);
  });
});

test("monthly cap at $15, reached through approvals: $10, then $5 with $5 capped, then $0", async () => {
  await withApp({ ...holdForEveryone, REFERRAL_MONTHLY_CAP_CENTS: "1500" }, async (app) => {
    const alice = await inviter(app, "ma_alice");
    const names = await signUps(app, alice.token, "ma", 15);
    const deps = reviewDeps(app);
    for (const name of names) {
      assert.ok(await approveReferral(deps, decision((await referralOf(app.deps.db, name)).id)));
    }
    assert.deepEqual(
      (await entriesOf(app.deps.db, "ma_alice")).map((e) => [e.amountCents, e.cappedCents, e.referralCount]),
      [
        [1000, null, 5],
        [500, 500, 10],
        [0, 1000, 15],
      ],
    );
    const me = await accountOf(app.deps.db, "ma_alice");
    assert.deepEqual([me.referredCount, me.balanceCents], [15, 1500]);
    assert.deepEqual(
      (await referralRows(app.deps.db)).filter((r) => r.capped).map((r) => r.invitee),
      ["ma_10", "ma_15"],
    );
  });
});
