import assert from "node:assert/strict";
import { test } from "node:test";
import { describeLedgerLine, type LedgerLine } from "../../src/referrals/history.js";
import { defaultProgram } from "../../src/referrals/rules.js";

const base: LedgerLine = {
  id: 1,
  createdAt: new Date("2026-11-25T00:00:00Z"),
  amountCents: 1000,
  kind: "invitee_bonus",
  balanceAfterCents: 1000,
  signupUsername: "bob",
  inviterUsername: "alice",
  referralCount: null,
  reason: null,
};

test("each ledger entry has a reason in the programme's words", () => {
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
    describeLedgerLine({ ...base, kind: "adjustment", amountCents: 500, reason: "Goodwill" }, defaultProgram),
    "Adjustment, credit added by staff: Goodwill",
  );
  assert.equal(
    describeLedgerLine({ ...base, kind: "adjustment", amountCents: -500, reason: null }, defaultProgram),
    "Adjustment, credit removed by staff",
  );
});
