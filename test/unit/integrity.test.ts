// The pure rules that hold a referral and cap an inviter's rewards.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { loadConfig } from "../../src/config.js";
import {
  capRewards,
  decideReferral,
  monthStart,
  noFacts,
  type ReferralFacts,
  signalsFor,
} from "../../src/referrals/integrity.js";

const defaults = loadConfig({ NODE_ENV: "test" }).integrity;
const facts = (changes: Partial<ReferralFacts>): ReferralFacts => ({ ...noFacts, ...changes });

test("no facts, no signal: approved at once", () => {
  assert.deepEqual(signalsFor(noFacts, defaults), []);
  assert.deepEqual(decideReferral(noFacts, defaults, 0), {
    status: "approved",
    signals: [],
    holdUntil: null,
  });
});

test("each signal fires on its own fact, at its default threshold", () => {
  assert.deepEqual(signalsFor(facts({ inviterSession: true }), defaults), ["self_referral"]);
  assert.deepEqual(signalsFor(facts({ inviterDevice: true }), defaults), ["self_referral"]);
  assert.deepEqual(signalsFor(facts({ sharedAddressOrdinal: 1 }), defaults), [], "a partner at home");
  assert.deepEqual(signalsFor(facts({ sharedAddressOrdinal: 2 }), defaults), ["shared_address"]);
  assert.deepEqual(signalsFor(facts({ linkSignupsThisHour: 10 }), defaults), []);
  assert.deepEqual(signalsFor(facts({ linkSignupsThisHour: 11 }), defaults), ["link_velocity"]);
  assert.deepEqual(signalsFor(facts({ addressSignupsThisHour: 5 }), defaults), []);
  assert.deepEqual(signalsFor(facts({ addressSignupsThisHour: 6 }), defaults), ["address_velocity"]);
  assert.deepEqual(signalsFor(facts({ earlierRejections: 1 }), defaults), ["earlier_rejections"]);
  const all = facts({
    inviterSession: true,
    sharedAddressOrdinal: 3,
    linkSignupsThisHour: 50,
    addressSignupsThisHour: 50,
    earlierRejections: 4,
  });
  assert.deepEqual(decideReferral(all, defaults, 0).signals, [
    "self_referral",
    "shared_address",
    "link_velocity",
    "address_velocity",
    "earlier_rejections",
  ]);
});

test("each signal's own setting turns only it off; REFERRAL_SIGNALS=off turns all off", () => {
  const all = facts({
    inviterDevice: true,
    sharedAddressOrdinal: 2,
    linkSignupsThisHour: 99,
    addressSignupsThisHour: 99,
    earlierRejections: 9,
  });
  const without = (env: Record<string, string>) =>
    signalsFor(all, loadConfig({ NODE_ENV: "test", ...env }).integrity);
  assert.ok(!without({ REFERRAL_SELF_SIGNAL: "off" }).includes("self_referral"));
  assert.ok(!without({ REFERRAL_SHARED_ADDRESS_DAYS: "0" }).includes("shared_address"));
  assert.ok(!without({ REFERRAL_LINK_SIGNUPS_PER_HOUR: "0" }).includes("link_velocity"));
  assert.ok(!without({ REFERRAL_ADDRESS_SIGNUPS_PER_HOUR: "0" }).includes("address_velocity"));
  assert.ok(!without({ REFERRAL_REJECTIONS_BEFORE_HOLD: "0" }).includes("earlier_rejections"));
  assert.equal(without({ REFERRAL_SELF_SIGNAL: "off" }).length, 4);
  assert.deepEqual(without({ REFERRAL_SIGNALS: "off" }), []);
});

test("the hold for everyone holds a clean referral until a set time; a signal holds it for staff", () => {
  const config = loadConfig({ NODE_ENV: "test", REFERRAL_HOLD_HOURS: "24" }).integrity;
  const now = Date.UTC(2026, 10, 29, 12);
  assert.deepEqual(decideReferral(noFacts, config, now), {
    status: "held",
    signals: [],
    holdUntil: new Date(now + 24 * 3_600_000),
  });
  assert.deepEqual(decideReferral(facts({ inviterSession: true }), config, now).signals, ["self_referral"]);
});

test("the bot brake: 1000 sign-ups per address per window with the signals on, 20 without", () => {
  assert.equal(loadConfig({ NODE_ENV: "test" }).throttle.signupsPerWindow, 1000);
  assert.equal(loadConfig({ NODE_ENV: "test", REFERRAL_SIGNALS: "off" }).throttle.signupsPerWindow, 20);
  assert.equal(loadConfig({ NODE_ENV: "test", SIGNUPS_PER_WINDOW: "50" }).throttle.signupsPerWindow, 50);
  assert.throws(() => loadConfig({ REFERRAL_SIGNALS: "maybe" }), /REFERRAL_SIGNALS: must be on or off/);
});

test("the monthly limit pays what is left of it, never more, and says what it withheld", () => {
  const reward = (referralCount: number) => ({ amountCents: 1000, referralCount });
  assert.deepEqual(capRewards([reward(5)], 0, null), [
    { referralCount: 5, amountCents: 1000, earnedCents: 1000, cappedCents: 0 },
  ]);
  assert.deepEqual(capRewards([reward(10)], 1500, 2000), [
    { referralCount: 10, amountCents: 500, earnedCents: 1000, cappedCents: 500 },
  ]);
  assert.deepEqual(capRewards([reward(15)], 2500, 2000), [
    { referralCount: 15, amountCents: 0, earnedCents: 1000, cappedCents: 1000 },
  ]);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 6 }),
      fc.integer({ min: 0, max: 20_000 }),
      fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: null }),
      (amounts, paidBefore, cap) => {
        const paid = capRewards(
          amounts.map((amountCents, i) => ({ amountCents, referralCount: (i + 1) * 5 })),
          paidBefore,
          cap,
        );
        const total = paid.reduce((sum, r) => sum + r.amountCents, 0);
        for (const r of paid) {
          assert.ok(r.amountCents >= 0 && r.cappedCents >= 0);
          assert.equal(r.amountCents + r.cappedCents, r.earnedCents);
        }
        if (cap === null)
          assert.equal(
            total,
            amounts.reduce((a, b) => a + b, 0),
          );
        else assert.ok(total <= Math.max(0, cap - paidBefore));
      },
    ),
  );
});

test("a calendar month starts on the 1st at midnight UTC", () => {
  assert.equal(monthStart(Date.UTC(2026, 10, 29, 23, 59)).toISOString(), "2026-11-01T00:00:00.000Z");
  assert.equal(monthStart(Date.UTC(2027, 0, 1, 0, 0)).toISOString(), "2027-01-01T00:00:00.000Z");
});
