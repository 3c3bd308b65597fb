// Password rules, each a small validator with one message, run in the earlier version's order.
// All that fail are reported together.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import { messages } from "./messages.js";
import { characterCount } from "./username.js";

/** Longer passwords are refused before hashing: hashing a megabyte is a denial of service. */
export const PASSWORD_MAX_LENGTH = 1024;
export const PASSWORD_MIN_LENGTH = 8;
const MAX_SIMILARITY = 0.7;

export interface PasswordContext {
  username: string;
}

export interface PasswordValidator {
  /** The message when the password breaks the rule, or null. */
  check(password: string, context: PasswordContext): string | null;
}

/**
 * difflib.SequenceMatcher(a, b).quick_ratio(): 2 * (characters in common, as multisets) / total length.
 * An upper bound on the real ratio, which is what Django compares against.
 */
export function quickRatio(a: string, b: string): number {
  const total = characterCount(a) + characterCount(b);
  if (total === 0) return 1;
  const available = new Map<string, number>();
  for (const ch of b) available.set(ch, (available.get(ch) ?? 0) + 1);
  let matches = 0;
  for (const ch of a) {
    const left = available.get(ch) ?? 0;
    if (left > 0) {
      matches++;
      available.set(ch, left - 1);
    }
  }
  return (2 * matches) / total;
}

/** Django's UserAttributeSimilarityValidator, for the username. */
export const similarToUsername: PasswordValidator = {
  check(password, { username }) {
    if (!username) return null;
    const pw = password.toLowerCase();
    const value = username.toLowerCase();
    const parts = [...value.split(/[^\p{L}\p{N}_]+/u), value];
    const pwLength = characterCount(pw);
    for (const part of parts) {
      const partLength = characterCount(part);
      // Django skips parts far shorter than the password: they cannot make it guessable.
      if (pwLength >= 10 * partLength && partLength < (MAX_SIMILARITY / 2) * pwLength) continue;
      if (quickRatio(pw, part) >= MAX_SIMILARITY) return messages.passwordTooSimilar;
    }
    return null;
  },
};

export const minimumLength: PasswordValidator = {
  check: (password) =>
    characterCount(password) < PASSWORD_MIN_LENGTH ? messages.passwordTooShort(PASSWORD_MIN_LENGTH) : null,
};

/** Tens of thousands of common passwords, from zxcvbn-ts's maintained list. */
const commonPasswords = new Set(dictionary["passwords-common"].map((p) => String(p).toLowerCase()));

/**
 * Below this many guesses a password is as good as on every attacker's list: keyboard walks,
 * sequences and repeats ("123", "qwerty12", "aaaaaaaa") that a frequency list can miss.
 */
export const COMMON_GUESSES_BELOW = 1000;

/** zxcvbn with its full dictionaries: the sign-up page's strength meter (0 to 4), built on first use. */
let fullEstimator: ZxcvbnFactory | undefined;
export function strengthEstimator(): ZxcvbnFactory {
  fullEstimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, maxLength: 256 });
  return fullEstimator;
}

/**
 * The same estimate for the one question the rule asks, "fewer than COMMON_GUESSES_BELOW guesses?",
 * with every ranked list cut to its first COMMON_GUESSES_BELOW - 1 words. The answer is the same as
 * with the full lists: a dictionary match guesses at least its rank, a sequence of matches at least
 * the product of theirs, and zxcvbn keeps the cheapest sequence, so a password under the threshold
 * uses only words ranked under it (all kept), and one at or over it cannot fall under it when words
 * are taken away. It takes about 40% less time (the sign-up's main-thread share of zxcvbn) and 6 MB
 * less memory. test/unit/password-policy.test.ts checks the two agree on generated passwords.
 */
export const commonnessEstimator = new ZxcvbnFactory({
  dictionary: Object.fromEntries(
    Object.entries(dictionary).map(([name, words]) => [name, words.slice(0, COMMON_GUESSES_BELOW - 1)]),
  ),
  graphs: adjacencyGraphs,
  maxLength: 256,
});

export function guessedWithinCommonThreshold(password: string, estimator = commonnessEstimator): boolean {
  return estimator.check(password).guesses < COMMON_GUESSES_BELOW;
}

export const notCommon: PasswordValidator = {
  check(password) {
    if (commonPasswords.has(password.toLowerCase().trim())) return messages.passwordTooCommon;
    return guessedWithinCommonThreshold(password) ? messages.passwordTooCommon : null;
  },
};

export const notEntirelyNumeric: PasswordValidator = {
  check: (password) => (/^\p{Nd}+$/u.test(password) ? messages.passwordEntirelyNumeric : null),
};

export const passwordValidators: readonly PasswordValidator[] = [
  similarToUsername,
  minimumLength,
  notCommon,
  notEntirelyNumeric,
];

export function passwordProblems(password: string, context: PasswordContext): string[] {
  const problems: string[] = [];
  for (const validator of passwordValidators) {
    const message = validator.check(password, context);
    if (message) problems.push(message);
  }
  return problems;
}

export function commonPasswordCount(): number {
  return commonPasswords.size;
}
