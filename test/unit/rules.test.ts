import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  defaultProgram,
  inviterEarningsCents,
  progressToNextReward,
  rewardSchedule,
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

describe("rewardSchedule", () => {
  test("lists, for each count the next sign-ups can reach, what rewardsFor pays at that count", () => {
    const programs = [
      defaultProgram,
      { ...defaultProgram, referralsPerInviterReward: 1 },
      { ...defaultProgram, referralsPerInviterReward: 7 },
    ];
    for (const program of programs) {
      for (const from of [0, 3, 4, 5, 12, 99]) {
        const schedule = rewardSchedule(from, 11, program);
        for (let count = from + 1; count <= from + 11; count++) {
          const due = schedule
            .filter((row) => row.atCount === count)
            .map(({ atCount: _, ...reward }) => reward);
          assert.deepEqual(due, rewardsFor(count - 1, count, program), `from ${from}, at ${count}`);
        }
        assert.ok(schedule.every((row) => row.atCount > from && row.atCount <= from + 11));
      }
    }
  });

  test("from 3 over the next 8 sign-ups: $10 at the 5th and at the 10th", () => {
    assert.deepEqual(rewardSchedule(3, 8, defaultProgram), [
      { amountCents: 1000, referralCount: 5, atCount: 5 },
      { amountCents: 1000, referralCount: 10, atCount: 10 },
    ]);
  });

  test("a programme without inviter rewards schedules nothing", () => {
    assert.deepEqual(rewardSchedule(0, 50, { ...defaultProgram, inviterRewardCents: 0 }), []);
  });
});
