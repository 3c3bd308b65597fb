// Approvals racing each other, the end-of-hold job and new sign-ups through the same link: every
// approved referral counts once, the inviter is paid $10 per five exactly once, each invitee is paid
// once, and the ledger stays exact. Two app instances share one database: one holds every referral
// (REFERRAL_HOLD_HOURS=24), the other approves at once, as two deployments during a change of setting.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FastifyInstance } from "fastify";
import { setUserActive } from "../../src/admin/user-status.js";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { type Approved, approveDueReferrals, approveReferral } from "../../src/referrals/review.js";
import { staffClient, userIdOf } from "../support/admin.js";
import { createTestApp, gatedHasher, generousLimits, SLOW_PASSWORD, type TestApp } from "../support/app.js";
import { onPostgres } from "../support/database.js";
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

interface TwoApps {
  /** Holds every referral for 24 hours. */
  holding: TestApp;
  /** The same database, approving clean referrals at once. */
  instant: { app: FastifyInstance };
  clock: TestClock;
}

async function withTwoApps(env: Record<string, string>, body: (apps: TwoApps) => Promise<void>) {
  const clock = testClock();
  const holding = await createTestApp({ ...env, REFERRAL_HOLD_HOURS: "24" }, { clock });
  const instantApp = await buildApp({
    db: holding.deps.db,
    config: loadConfig({
      NODE_ENV: "test",
      LOG_LEVEL: "silent",
      ...generousLimits,
      ...env,
      REFERRAL_HOLD_HOURS: "0",
    }),
    hasher: holding.deps.hasher,
    clock,
  });
  try {
    await instantApp.ready();
    await body({ holding, instant: { app: instantApp }, clock });
    assert.deepEqual(await ledgerMismatches(holding.deps.db), []);
  } finally {
    await instantApp.close();
    await holding.close();
  }
}

const decision = (referralId: number) => ({ referralId, staffId: null, reason: null, staffNote: null });

/** Held sign-ups through `token` on the holding app: their referral ids. */
async function heldSignUps(app: TestApp, token: string, prefix: string, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 1; i <= count; i++) {
    await signUpThrough(freshClient(app), `${prefix}_h${i}`, token);
    const referral = await referralOf(app.deps.db, `${prefix}_h${i}`);
    assert.equal(referral.status, "held");
    ids.push(referral.id);
  }
  return ids;
}

/** Every invitee of `inviterName` paid $10 once, posted; nothing pending. */
async function assertInviteesPaidOnce(app: TestApp, inviterName: string): Promise<void> {
  for (const referral of (await referralRows(app.deps.db)).filter((r) => r.inviter === inviterName)) {
    assert.equal(referral.status, "approved", referral.invitee);
    const account = await accountOf(app.deps.db, referral.invitee);
    assert.deepEqual([account.balanceCents, account.pendingCents], [1000, 0], referral.invitee);
    assert.deepEqual(
      (await entriesOf(app.deps.db, referral.invitee)).map((e) => [e.kind, e.amountCents, e.status]),
      [["invitee_bonus", 1000, "posted"]],
      referral.invitee,
    );
  }
}

test(`approvals (some twice, and the end-of-hold job twice) racing new sign-ups through the same links stay exact (${onPostgres ? "PostgreSQL" : "PGlite"})`, async () => {
  await withTwoApps({}, async ({ holding, instant, clock }) => {
    const inviters = ["ra_alice", "ra_bob", "ra_carol"];
    const links = await Promise.all(inviters.map((name) => inviter(holding, name)));
    const held = await Promise.all(links.map((link, i) => heldSignUps(holding, link.token, `ra${i}`, 7)));
    clock.advance(24 * HOUR_MS);

    const deps = reviewDeps(holding, clock);
    const approvals: Promise<Approved | null>[] = [];
    const jobs: Promise<Approved[]>[] = [];
    const signUps: Promise<void>[] = [];
    for (const [i, ids] of held.entries()) {
      // Each held referral approved by staff, the first four twice.
      for (const id of [...ids, ...ids.slice(0, 4)]) approvals.push(approveReferral(deps, decision(id)));
      for (let k = 1; k <= 8; k++) {
        signUps.push(
          signUpThrough(freshClient({ app: instant.app }), `ra${i}_n${k}`, links[i]?.token as string),
        );
      }
    }
    jobs.push(approveDueReferrals(deps), approveDueReferrals(deps));
    const [decided, byJobs] = await Promise.all([
      Promise.all(approvals),
      Promise.all(jobs),
      Promise.all(signUps),
    ]);

    const done = [...decided.filter((d) => d !== null), ...byJobs.flat()];
    assert.equal(done.length, 21, "each held referral approved exactly once");
    assert.equal(new Set(done.map((d) => d.inviteeId)).size, 21);
    for (const name of inviters) {
      const me = await accountOf(holding.deps.db, name);
      assert.equal(me.referredCount, 15, name);
      assert.equal(me.balanceCents, 3000, name);
      assert.deepEqual(
        (await entriesOf(holding.deps.db, name)).map((e) => [e.kind, e.amountCents, e.referralCount]),
        [
          ["inviter_reward", 1000, 5],
          ["inviter_reward", 1000, 10],
          ["inviter_reward", 1000, 15],
        ],
        name,
      );
      await assertInviteesPaidOnce(holding, name);
    }
  });
});

test("with a monthly cap of $10, racing approvals and sign-ups pay the inviter exactly $10 in all", async () => {
  await withTwoApps({ REFERRAL_MONTHLY_CAP_CENTS: "1000" }, async ({ holding, instant, clock }) => {
    const alice = await inviter(holding, "rc_alice");
    const ids = await heldSignUps(holding, alice.token, "rc", 7);
    const deps = reviewDeps(holding, clock);
    await Promise.all([
      ...ids.map((id) => approveReferral(deps, decision(id))),
      ...Array.from({ length: 8 }, (_, k) =>
        signUpThrough(freshClient({ app: instant.app }), `rc_n${k}`, alice.token),
      ),
    ]);
    const me = await accountOf(holding.deps.db, "rc_alice");
    assert.deepEqual([me.referredCount, me.balanceCents], [15, 1000]);
    const rewards = await entriesOf(holding.deps.db, "rc_alice");
    assert.deepEqual(
      rewards.map((e) => [e.referralCount, e.amountCents, e.cappedCents]),
      [
        [5, 1000, null],
        [10, 0, 1000],
        [15, 0, 1000],
      ],
    );
    const capped = (await referralRows(holding.deps.db)).filter((r) => r.capped).map((r) => r.invitee);
    assert.deepEqual(
      capped.sort(),
      rewards
        .slice(1)
        .map((e) => e.signupUsername)
        .sort(),
    );
    await assertInviteesPaidOnce(holding, "rc_alice");
  });
});

test("approvals racing the inviter's deactivation: the count is the approvals that counted, and pays per five", async () => {
  await withTwoApps({}, async ({ holding, clock }) => {
    await staffClient(holding, "rd_staff");
    const staffId = await userIdOf(holding.deps.db, "rd_staff");
    const alice = await inviter(holding, "rd_alice");
    const ids = await heldSignUps(holding, alice.token, "rd", 12);
    const aliceId = (await accountOf(holding.deps.db, "rd_alice")).id;
    const deps = reviewDeps(holding, clock);
    const approvals = ids.map((id) => approveReferral(deps, decision(id)));
    const [decided] = await Promise.all([
      Promise.all(approvals),
      setUserActive(holding.deps.db, staffId, aliceId, false),
    ]);
    assert.ok(decided.every((d) => d !== null));
    const counted = decided.filter((d) => d?.counted).length;
    const me = await accountOf(holding.deps.db, "rd_alice");
    assert.equal(me.isActive, false);
    assert.equal(me.referredCount, counted);
    assert.equal(me.balanceCents, Math.floor(counted / 5) * 1000);
    assert.equal((await entriesOf(holding.deps.db, "rd_alice")).length, Math.floor(counted / 5));
    await assertInviteesPaidOnce(holding, "rd_alice");
  });
});

test("a held sign-up whose inviter was deactivated while it hashed goes ahead without a referral", async () => {
  const { hasher, hashing, release } = gatedHasher();
  const app = await createTestApp({ REFERRAL_HOLD_HOURS: "24" }, { hasher });
  try {
    await staffClient(app, "rh_staff");
    const alice = await inviter(app, "rh_alice");
    const late = freshClient(app);
    await late.get("/signup/");
    const lateResponse = late.signUp("rh_late", SLOW_PASSWORD, alice.token);
    await hashing;
    const aliceId = (await accountOf(app.deps.db, "rh_alice")).id;
    await setUserActive(app.deps.db, await userIdOf(app.deps.db, "rh_staff"), aliceId, false);
    release();
    assert.equal((await lateResponse).statusCode, 200);
    const account = await accountOf(app.deps.db, "rh_late");
    assert.deepEqual([account.balanceCents, account.pendingCents], [0, 0]);
    assert.deepEqual(await referralRows(app.deps.db, "rh_late"), []);
    assert.deepEqual(await entriesOf(app.deps.db, "rh_late"), []);
    assert.deepEqual(await ledgerMismatches(app.deps.db), []);
  } finally {
    release();
    await app.close();
    await hasher.close();
  }
});
