// The import's rules as pure functions: names and their collisions, refusals, tokens, the account a
// Django user becomes, the reconciliation, and how progress is shown.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import fc from "fast-check";
import { USERNAME_MAX_LENGTH, usernameKey } from "../../src/accounts/username.js";
import { reconcile } from "../../src/django-import/import.js";
import {
  accountOf,
  type DjangoUser,
  planNames,
  rowRefusals,
  TokenDecisions,
} from "../../src/django-import/plan.js";
import { progressOn } from "../../src/django-import/progress.js";
import { reconciliationTable } from "../../src/django-import/report.js";
import {
  isDjangoReferralToken,
  isWellFormedReferralToken,
  newReferralToken,
} from "../../src/referrals/token.js";

const nobodyHere = new Map<string, { userId: number; username: string }>();

function djangoUser(overrides: Partial<DjangoUser> = {}): DjangoUser {
  return {
    id: 1,
    username: "alice",
    password: "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
    isStaff: false,
    isActive: true,
    dateJoined: "2020-01-02T03:04:05.678901Z",
    balance: 12,
    peopleInvited: 3,
    token: "0123456789abcdef0123456789abcdef",
    ...overrides,
  };
}

describe("names", () => {
  test("names equal after NFKC and case folding collide; the oldest id keeps the name", () => {
    const plan = planNames(
      [
        { djangoId: 9, username: "Alice" },
        { djangoId: 3, username: "alice" },
        { djangoId: 5, username: "ＡＬＩＣＥ" },
        { djangoId: 4, username: "bob" },
      ],
      nobodyHere,
    );
    assert.deepEqual(
      plan.collisions.map((c) => [c.key, c.djangoUsers.map((u) => u.djangoId)]),
      [["alice", [3, 5, 9]]],
    );
    assert.deepEqual(
      plan.renames.map((r) => [r.djangoId, r.to]),
      [
        [5, "ALICE-5"],
        [9, "Alice-9"],
      ],
    );
  });

  test("a name a user here has already is kept by them: every Django user with it is renamed", () => {
    const plan = planNames(
      [{ djangoId: 2, username: "Ops" }],
      new Map([["ops", { userId: 1, username: "ops" }]]),
    );
    assert.deepEqual(plan.collisions[0]?.takenHere, { userId: 1, username: "ops" });
    assert.deepEqual(
      plan.renames.map((r) => r.to),
      ["Ops-2"],
    );
  });

  test("a new name that is taken too gets a further suffix; names empty once stripped become user-<id>", () => {
    const plan = planNames(
      [
        { djangoId: 1, username: "sam" },
        { djangoId: 2, username: "SAM" },
        { djangoId: 3, username: "   " },
      ],
      new Map([["sam-2", { userId: 7, username: "sam-2" }]]),
    );
    assert.deepEqual(
      plan.renames.map((r) => [r.djangoId, r.to]),
      [
        [2, "SAM-2-2"],
        [3, "user-3"],
      ],
    );
    assert.deepEqual(
      plan.collisions.map((c) => c.key),
      ["sam", ""],
    );
  });

  test("a long name is cut so that the new name fits in 150 characters", () => {
    const long = "x".repeat(150);
    const plan = planNames(
      [
        { djangoId: 1, username: long },
        { djangoId: 123456, username: long.toUpperCase() },
      ],
      nobodyHere,
    );
    const renamed = plan.renames[0]?.to as string;
    assert.equal(renamed.length, USERNAME_MAX_LENGTH);
    assert.ok(renamed.endsWith("-123456"));
  });

  test("names the sign-up form refuses are kept as they are, and listed", () => {
    const plan = planNames(
      [
        { djangoId: 1, username: "john smith" },
        { djangoId: 2, username: "ok_name" },
      ],
      nobodyHere,
    );
    assert.deepEqual(plan.renames, []);
    assert.deepEqual(
      plan.keptAgainstRules.map((k) => k.djangoId),
      [1],
    );
  });

  test("whatever the names, every user ends with a name no one else has, and the plan is the same each time", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.constantFrom("a", "A", "ａ", "b", "B", "ß", "SS", "ss", "a-2", " a", "", "ǆ", "ǅ", "Ǆ"),
          {
            minLength: 1,
          },
        ),
        fc.subarray(["a", "ss", "a-2", "b-5"]),
        (names, taken) => {
          const candidates = names.map((username, i) => ({ djangoId: i + 1, username }));
          const here = new Map(taken.map((key, i) => [key, { userId: 100 + i, username: key }]));
          const plan = planNames(candidates, here);
          const renamed = new Map(plan.renames.map((r) => [r.djangoId, r.to]));
          const finalKeys = candidates.map((c) => usernameKey(renamed.get(c.djangoId) ?? c.username.trim()));
          assert.equal(new Set(finalKeys).size, finalKeys.length, "unique among themselves");
          for (const key of finalKeys) assert.ok(!here.has(key) && key !== "", `free here: ${key}`);
          assert.deepEqual(planNames([...candidates].reverse(), here), plan);
        },
      ),
    );
  });
});

describe("rows the import refuses", () => {
  test("a sound row has no refusal", () => {
    assert.deepEqual(rowRefusals(djangoUser()), []);
    assert.deepEqual(
      rowRefusals(djangoUser({ password: "!unusable", balance: null, peopleInvited: null })),
      [],
    );
  });

  test("a hash format not verified here, a malformed hash, a negative balance, a progress past 4", () => {
    const reasons = (user: DjangoUser) => rowRefusals(user).map((r) => r.reason);
    assert.deepEqual(reasons(djangoUser({ password: "bcrypt_sha256$$2b$12$abc" })), [
      'its password hash is in the "bcrypt_sha256" format, which this service does not verify',
    ]);
    assert.deepEqual(reasons(djangoUser({ password: "pbkdf2_sha256$0$s$k" })), [
      'its password hash is a malformed "pbkdf2_sha256" hash',
    ]);
    assert.deepEqual(reasons(djangoUser({ balance: -1 })), [
      "its balance (-1) is not a whole number of dollars of 0 or more",
    ]);
    assert.deepEqual(reasons(djangoUser({ peopleInvited: 5 })), [
      "its people_invited (5) is not a progress of 0 to 4",
    ]);
  });
});

describe("tokens", () => {
  test("old 32-hex tokens and new 22-character ones are both well formed; nothing else is", () => {
    assert.equal(isWellFormedReferralToken("0123456789abcdef0123456789abcdef"), true);
    assert.equal(isWellFormedReferralToken(newReferralToken()), true);
    for (const bad of [
      "0123456789ABCDEF0123456789ABCDEF",
      "0123456789abcdef0123456789abcde",
      "g".repeat(32),
      "",
      7,
    ]) {
      assert.equal(isWellFormedReferralToken(bad), false, String(bad));
    }
    assert.equal(isDjangoReferralToken(newReferralToken()), false);
  });

  test("a token is kept unless it is missing, malformed, or an older user's (here or in Django)", () => {
    const decisions = new TokenDecisions();
    const token = "0123456789abcdef0123456789abcdef";
    const takenHere = new Set(["ffffffffffffffffffffffffffffffff"]);
    assert.equal(decisions.decide(token, takenHere), true);
    assert.equal(decisions.decide(token, takenHere), false);
    assert.equal(decisions.decide("ffffffffffffffffffffffffffffffff", takenHere), false);
    assert.equal(decisions.decide("NOT-HEX", takenHere), false);
    assert.equal(decisions.decide(null, takenHere), false);
    assert.deepEqual(decisions.newLinks, { "no link": 1, malformed: 1, shared: 2 });
  });
});

describe("the account a Django user becomes", () => {
  test("dollars become cents; progress, flags, join date and hash carry over as they are", () => {
    const account = accountOf(
      djangoUser({ username: " Ａlice ", isStaff: true, isActive: false }),
      undefined,
      true,
    );
    assert.deepEqual(account, {
      djangoId: 1,
      djangoUsername: " Ａlice ",
      username: "Alice",
      usernameKey: "alice",
      passwordHash: djangoUser().password,
      referralToken: "0123456789abcdef0123456789abcdef",
      balanceCents: 1200,
      carriedReferrals: 3,
      isStaff: true,
      isActive: false,
      createdAt: "2020-01-02T03:04:05.678901Z",
    });
  });

  test("without a profile: nothing owed, no progress, a new link; a rename replaces the name", () => {
    const account = accountOf(
      djangoUser({ balance: null, peopleInvited: null, token: null }),
      "alice-1",
      false,
    );
    assert.equal(account.balanceCents, 0);
    assert.equal(account.carriedReferrals, 0);
    assert.equal(account.username, "alice-1");
    assert.match(account.referralToken, /^[A-Za-z0-9_-]{22}$/);
  });

  test("any whole-dollar balance is exact in cents", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (dollars) => {
        assert.equal(
          BigInt(accountOf(djangoUser({ balance: dollars }), undefined, true).balanceCents),
          BigInt(dollars) * 100n,
        );
      }),
    );
  });
});

describe("the reconciliation", () => {
  const totals = {
    users: 3n,
    staff: 1n,
    active: 2n,
    balanceCents: 123_456_789_012_345_600n,
    carriedReferrals: 4n,
  };

  test("matches only when every figure does and nobody is missing, in exact cents", () => {
    const here = { ...totals, ledgerCents: totals.balanceCents };
    assert.equal(reconcile(totals, here, 0, 3).ok, true);
    assert.equal(reconcile(totals, { ...here, ledgerCents: here.ledgerCents - 1n }, 0, 3).ok, false);
    assert.equal(reconcile(totals, { ...here, staff: 0n }, 0, 3).ok, false);
    assert.equal(reconcile(totals, here, 1, 3).ok, false);
  });

  test("prints as an aligned table, saying which rows differ", () => {
    const table = reconciliationTable(reconcile(totals, { ...totals, ledgerCents: 0n }, 0, 3));
    assert.deepEqual(table, [
      "                                            Django                here",
      "users                                            3                   3  ok",
      "staff                                            1                   1  ok",
      "active                                           2                   2  ok",
      "balances (cents)                123456789012345600  123456789012345600  ok",
      "opening ledger entries (cents)  123456789012345600                   0  DIFFERS",
      "progress toward rewards                          4                   4  ok",
      "Every Django user has an account here (3 of 3).",
    ]);
  });
});

describe("progress", () => {
  function stream(isTTY: boolean) {
    const out = new PassThrough();
    let text = "";
    out.on("data", (chunk) => {
      text += chunk;
    });
    Object.assign(out, { isTTY, columns: 100 });
    return { stream: out as unknown as NodeJS.WriteStream, text: () => text };
  }

  test("without a terminal: a plain line per batch", () => {
    const { stream: out, text } = stream(false);
    let now = 0;
    const progress = progressOn(out, () => now);
    progress.checked(5000);
    progress.checked(9000);
    progress.start(2000);
    now = 1000;
    progress.advance(1000, 2000);
    now = 2000;
    progress.advance(2000, 2000);
    progress.stop();
    assert.equal(
      text(),
      "Checked 9000 Django users; importing 2000.\n" +
        "batch 1: 1000/2000 users (50%), 1000 users/s\n" +
        "batch 2: 2000/2000 users (100%), 1000 users/s\n",
    );
  });

  test("on a terminal: a bar that is redrawn in place", () => {
    const { stream: out, text } = stream(true);
    const progress = progressOn(out);
    progress.start(4);
    progress.advance(2, 4);
    progress.advance(4, 4);
    progress.stop();
    assert.match(text(), /Importing \|[█░]+\| 100% · 4\/4 users/);
    assert.ok(!/batch \d/.test(text()), "no log lines");
  });
});
