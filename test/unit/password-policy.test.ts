// The server's "too common" rule runs zxcvbn over cut-down dictionaries (password-policy.ts explains
// why the verdict cannot change); here the cut-down and the full estimator must agree on every
// generated password, built from dictionary words on both sides of the cut, their l33t and
// capitalised forms, digits, keyboard walks, repeats and random characters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import fc from "fast-check";
import {
  COMMON_GUESSES_BELOW,
  commonnessEstimator,
  couldBeGuessedWithinCommonThreshold,
  guessedWithinCommonThreshold,
  notGuessable,
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

// The shortcut past zxcvbn (couldBeGuessedWithinCommonThreshold) may only answer false where zxcvbn
// finds COMMON_GUESSES_BELOW guesses or more. Its cases are long passwords, so these are long too,
// built as each kind of single match that could cover one: walks on every keyboard, listed words in
// l33t (multi-character substitutions included), reversed or upper-cased, repeats and sequences.
const listed = [...passwords.slice(0, COMMON_GUESSES_BELOW), ...diceware.slice(0, COMMON_GUESSES_BELOW)];
const keyboards = Object.values(adjacencyGraphs) as Record<string, (string | null)[]>[];
const keyboardWalk = fc
  .tuple(fc.constantFrom(...keyboards), fc.nat(500), fc.array(fc.nat(100), { minLength: 10, maxLength: 20 }))
  .map(([keyboard, start, steps]) => {
    const keys = Object.keys(keyboard);
    let at = keys[start % keys.length] as string;
    let walked = at;
    for (const step of steps) {
      const next = (keyboard[at] ?? []).filter((key): key is string => key !== null);
      if (next.length === 0) break;
      const key = next[step % next.length] as string;
      at = key[step % key.length] as string;
      walked += at;
    }
    return walked;
  });
const l33tForms: Record<string, string[]> = {
  a: ["4", "@"],
  d: ["|)"],
  e: ["3"],
  h: ["|-|"],
  i: ["1", "!"],
  k: ["|<"],
  m: ["/\\/\\", "^^", "nn"],
  o: ["0", "()"],
  s: ["$", "5"],
  u: ["|_|"],
  w: ["\\/\\/", "vv", "uu"],
  x: ["><"],
};
const listedWordDisguised = fc
  .tuple(
    fc.constantFrom(...listed),
    fc.array(fc.nat(3), { minLength: 12, maxLength: 12 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([word, picks, reversed, upper]) => {
    let disguised = [...word]
      .map((ch, k) => {
        const forms = l33tForms[ch];
        const pick = picks[k % picks.length] as number;
        return forms && pick > 0 ? (forms[pick % forms.length] as string) : ch;
      })
      .join("");
    if (reversed) disguised = [...disguised].reverse().join("");
    return upper ? disguised.toUpperCase() : disguised;
  });
const repeated = fc
  .tuple(
    fc.oneof(fc.constantFrom(...listed), fc.string({ minLength: 1, maxLength: 4 })),
    fc.integer({ min: 2, max: 6 }),
  )
  .map(([part, times]) => part.repeat(times));
const sequence = fc
  .tuple(fc.integer({ min: 33, max: 126 }), fc.integer({ min: -5, max: 5 }), fc.integer({ min: 11, max: 20 }))
  .map(([first, step, length]) =>
    String.fromCharCode(...Array.from({ length }, (_, k) => Math.min(126, Math.max(32, first + step * k)))),
  );
const longPassword = fc
  .oneof(
    keyboardWalk,
    listedWordDisguised,
    repeated,
    sequence,
    password,
    fc.string({ minLength: 11, maxLength: 40 }),
  )
  .filter((candidate) => candidate.length > 10);

test("the shortcut past zxcvbn never clears a password zxcvbn finds common", () => {
  const seen = { common: 0, skipped: 0 };
  fc.assert(
    fc.property(longPassword, (candidate) => {
      const common = guessedWithinCommonThreshold(candidate);
      const couldBe = couldBeGuessedWithinCommonThreshold(candidate);
      if (common) seen.common++;
      if (!couldBe) seen.skipped++;
      assert.ok(
        couldBe || !common,
        `${JSON.stringify(candidate)}: zxcvbn finds it common, the shortcut cleared it`,
      );
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 600) },
  );
  // Common long passwords were met, and the shortcut did skip zxcvbn for many others.
  assert.ok(seen.common > 20 && seen.skipped > 20, JSON.stringify(seen));
});

test("a long ordinary password skips zxcvbn; the kinds of long common one are still refused", () => {
  for (const ordinary of ["plum-Orbit-74-lantern", "correct horse battery staple 9", "Tr0ub4dor&3-xyzzy"]) {
    assert.equal(couldBeGuessedWithinCommonThreshold(ordinary), false, ordinary);
    assert.equal(notGuessable.check(ordinary, { username: "" }), null, ordinary);
  }
  const common = [
    "abcdefghijklmnop", // a sequence
    "passwordpassword", // a repeat
    "aaaaaaaaaaaaaaaa",
    "qwerty|_|iop", // a listed word ("qwertyuiop") in l33t
    "sh4d0wsh4d0w", // a listed word in l33t, twice
  ];
  for (const candidate of common) {
    assert.equal(couldBeGuessedWithinCommonThreshold(candidate), true, candidate);
    assert.equal(guessedWithinCommonThreshold(candidate), true, candidate);
    assert.ok(notGuessable.check(candidate, { username: "" }), candidate);
  }
  // Short and non-ASCII passwords always go to zxcvbn.
  assert.equal(couldBeGuessedWithinCommonThreshold("xq7!vz2#kp"), true);
  assert.equal(couldBeGuessedWithinCommonThreshold("plum-Orbit-74-lantérn"), true);
});
