// Money, dates and ledger wording: written out in one place, the same on every page, message and file.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compactDollars,
  dayText,
  dayTimeText,
  decimalDollars,
  describeLedgerLine,
  formatDollars,
  isoDay,
  isoTime,
  type LedgerLineWords,
  ledgerKindLabel,
  ordinal,
  rewardReason,
  shortDay,
  signedDollars,
  utcMinute,
  wholeDollars,
} from "../../src/format.js";
import { defaultProgram } from "../../src/referrals/rules.js";

describe("money", () => {
  test("whole dollars round down and dollars format with cents", () => {
    assert.equal(wholeDollars(1000), 10);
    assert.equal(wholeDollars(1099), 10);
    assert.equal(formatDollars(0), "$0.00");
    assert.equal(formatDollars(1000), "$10.00");
    assert.equal(formatDollars(123456789), "$1,234,567.89");
    assert.equal(formatDollars(-1005), "-$10.05");
  });

  test("amounts for CSV are plain decimal dollars", () => {
    assert.equal(decimalDollars(0), "0.00");
    assert.equal(decimalDollars(5), "0.05");
    assert.equal(decimalDollars(-250), "-2.50");
    assert.equal(decimalDollars(123456789), "1234567.89");
  });

  test("changes to a balance are always signed, with a real minus sign", () => {
    assert.equal(signedDollars(1000), "+$10.00");
    assert.equal(signedDollars(0), "+$0.00");
    assert.equal(signedDollars(-125050), "−$1,250.50");
  });

  test("chart axes are short", () => {
    assert.equal(compactDollars(2500), "$25");
    assert.equal(compactDollars(250), "$2.5");
    assert.equal(compactDollars(150000), "$1.5k");
  });
});

describe("dates", () => {
  const when = new Date("2026-11-05T16:39:02.120Z");

  test("are shown in UTC, for people, for staff and for programs", () => {
    assert.equal(dayText(when), "5 Nov 2026");
    assert.equal(dayTimeText(when), "5 Nov 2026, 16:39");
    assert.equal(utcMinute(when), "2026-11-05 16:39 UTC");
    assert.equal(isoTime(when), "2026-11-05T16:39:02.120Z");
    assert.equal(isoTime("2026-11-05 16:39:02.12+00"), "2026-11-05T16:39:02.120Z");
    assert.equal(isoDay(when), "2026-11-05");
  });

  test("chart labels shorten days and leave anything else alone", () => {
    assert.equal(shortDay("2026-11-05"), "Nov 5");
    assert.equal(shortDay("2026-01-31"), "Jan 31");
    assert.equal(shortDay("total"), "total");
  });
});

describe("ledger wording", () => {
  const base: LedgerLineWords = {
    kind: "invitee_bonus",
    amountCents: 1000,
    inviterUsername: "alice",
    referralCount: null,
    reason: null,
  };

  test("each entry has a reason in the programme's words", () => {
    assert.equal(describeLedgerLine(base, defaultProgram), "Welcome bonus: you joined through alice's link");
    assert.equal(
      describeLedgerLine({ ...base, inviterUsername: null }, defaultProgram),
      "Welcome bonus: you joined through a friend's link",
    );
    assert.equal(
      describeLedgerLine({ ...base, kind: "inviter_reward", referralCount: 15 }, defaultProgram),
      "Referral reward: 5 more people joined through your link (15 in all)",
    );
    assert.equal(
      describeLedgerLine(
        { ...base, kind: "inviter_reward", referralCount: 3 },
        { ...defaultProgram, referralsPerInviterReward: 1 },
      ),
      "Referral reward: 1 more person joined through your link (3 in all)",
    );
    assert.equal(
      describeLedgerLine(
        { ...base, kind: "adjustment", amountCents: 500, reason: "Goodwill" },
        defaultProgram,
      ),
      "Adjustment, credit added by staff: Goodwill",
    );
    assert.equal(
      describeLedgerLine({ ...base, kind: "adjustment", amountCents: -500, reason: null }, defaultProgram),
      "Adjustment, credit removed by staff",
    );
  });

  test("staff see each kind by name, and which sign-up paid a reward", () => {
    assert.equal(ledgerKindLabel("invitee_bonus"), "Sign-up bonus");
    assert.equal(ledgerKindLabel("inviter_reward"), "Referral reward");
    assert.equal(ledgerKindLabel("adjustment"), "Staff adjustment");
    assert.equal(ledgerKindLabel("toString"), "toString", "no inherited names");
    assert.equal(rewardReason(5), "5th sign-up through their link");
    assert.equal(rewardReason(1), "1st sign-up through their link", "a reward for every sign-up");
    assert.equal(rewardReason(null), "sign-up through their link");
  });

  test("ordinals", () => {
    const cases: [number, string][] = [
      [1, "1st"],
      [2, "2nd"],
      [3, "3rd"],
      [4, "4th"],
      [10, "10th"],
      [11, "11th"],
      [12, "12th"],
      [13, "13th"],
      [21, "21st"],
      [22, "22nd"],
      [101, "101st"],
      [111, "111th"],
    ];
    for (const [n, text] of cases) assert.equal(ordinal(n), text);
  });
});
