import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  defaultProgram,
  inviterEarningsCents,
  progressToNextReward,
  rewardsFor,
} from "../../src/referrals/rules.js";

describe("rewardsFor", () => {
  test("the first four referred sign-ups earn the inviter nothing", () => {
    for (let n = 0; n < 4; n++) assert.deepEqual(rewardsFor(n, n + 1, defaultProgram), []);
  });

  test("the fifth referred sign-up earns the inviter $10", () => {
    assert.deepEqual(rewardsFor(4, 5, defaultProgram), [{ amountCents: 1000, referralCount: 5 }]);
  });

  test("the tenth earns another $10 and the sixth nothing", () => {
    assert.deepEqual(rewardsFor(5, 6, defaultProgram), []);
    assert.deepEqual(rewardsFor(9, 10, defaultProgram), [{ amountCents: 1000, referralCount: 10 }]);
  });

  test("a jump across several thresholds pays once for each", () => {
    assert.deepEqual(
      rewardsFor(3, 16, defaultProgram).map((r) => r.referralCount),
      [5, 10, 15],
    );
  });

  test("summing one step at a time gives floor(n / 5) * $10 for every n up to 100", () => {
    let paid = 0;
    for (let n = 0; n < 100; n++) {
      paid += rewardsFor(n, n + 1, defaultProgram).reduce((s, r) => s + r.amountCents, 0);
      assert.equal(paid, Math.floor((n + 1) / 5) * 1000);
      assert.equal(paid, inviterEarningsCents(n + 1, defaultProgram));
    }
  });

  test("the three numbers are configuration", () => {
    const program = { inviteeRewardCents: 500, inviterRewardCents: 2500, referralsPerInviterReward: 3 };
    assert.deepEqual(rewardsFor(2, 3, program), [{ amountCents: 2500, referralCount: 3 }]);
    assert.deepEqual(rewardsFor(3, 5, program), []);
  });

  test("a zero inviter reward pays nothing and writes no empty entries", () => {
    assert.deepEqual(rewardsFor(4, 5, { ...defaultProgram, inviterRewardCents: 0 }), []);
  });
});

describe("progress", () => {
  test("progress counts sign-ups toward the next reward", () => {
    assert.deepEqual(progressToNextReward(0, defaultProgram), { towardNext: 0, untilNext: 5, every: 5 });
    assert.deepEqual(progressToNextReward(3, defaultProgram), { towardNext: 3, untilNext: 2, every: 5 });
    assert.deepEqual(progressToNextReward(10, defaultProgram), { towardNext: 0, untilNext: 5, every: 5 });
  });
});
