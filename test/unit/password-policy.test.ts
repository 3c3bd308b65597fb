// The server's "too common" rule runs zxcvbn over cut-down dictionaries (password-policy.ts explains
// why the verdict cannot change); here the cut-down and the full estimator must agree on every
// generated password, built from dictionary words on both sides of the cut, their l33t and
// capitalised forms, digits, keyboard walks, repeats and random characters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dictionary } from "@zxcvbn-ts/language-common";
import fc from "fast-check";
import {
  COMMON_GUESSES_BELOW,
  commonnessEstimator,
  guessedWithinCommonThreshold,
  strengthEstimator,
} from "../../src/accounts/password-policy.js";

const passwords = dictionary["passwords-common"].map(String);
const diceware = dictionary["diceware-common"].map(String);
/** Words just inside the cut, just outside it, and far outside it. */
const words = [
  ...passwords.slice(0, 60),
  ...passwords.slice(COMMON_GUESSES_BELOW - 60, COMMON_GUESSES_BELOW + 60),
  ...passwords.slice(5000, 5060),
  ...diceware.slice(0, 40),
  ...diceware.slice(COMMON_GUESSES_BELOW - 40, COMMON_GUESSES_BELOW + 40),
];
const l33t = (w: string) => w.replace(/a/g, "@").replace(/o/g, "0").replace(/e/g, "3").replace(/s/g, "$");
const piece = fc.oneof(
  fc.constantFrom(...words),
  fc.constantFrom(...words).map(l33t),
  fc.constantFrom(...words).map((w) => w.charAt(0).toUpperCase() + w.slice(1)),
  fc.constantFrom(...words).map((w) => [...w].reverse().join("")),
  fc.constantFrom(
    "1",
    "12",
    "123",
    "2024",
    "1987",
    "!",
    "-",
    "_",
    "qwerty",
    "asdf",
    "zxcvbn",
    "aaaa",
    "abcd",
  ),
  fc.string({ minLength: 1, maxLength: 3 }),
);
const password = fc.array(piece, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(""));

test("the cut-down estimator gives the full estimator's verdict on generated passwords", () => {
  const verdicts = { common: 0, notCommon: 0 };
  fc.assert(
    fc.property(password, (candidate) => {
      const full = guessedWithinCommonThreshold(candidate, strengthEstimator());
      const cut = guessedWithinCommonThreshold(candidate, commonnessEstimator);
      verdicts[full ? "common" : "notCommon"]++;
      assert.equal(cut, full, `${JSON.stringify(candidate)}: cut-down ${cut}, full ${full}`);
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 600) },
  );
  // Both sides of the threshold were exercised, or the agreement would prove little.
  assert.ok(verdicts.common > 20 && verdicts.notCommon > 20, JSON.stringify(verdicts));
});

test("words ranked past the cut still count toward the guesses of longer passwords", () => {
  // A word outside the cut is no longer matched, so the password costs at least as many guesses.
  const farWord = passwords[5000] as string;
  const full = strengthEstimator().check(farWord).guesses;
  const cut = commonnessEstimator.check(farWord).guesses;
  assert.ok(full >= COMMON_GUESSES_BELOW, `${farWord}: ${full}`);
  assert.ok(cut >= full, `${farWord}: cut ${cut} < full ${full}`);
  // And a word inside the cut is matched the same way by both.
  const nearWord = passwords[10] as string;
  assert.equal(commonnessEstimator.check(nearWord).guesses, strengthEstimator().check(nearWord).guesses);
});
