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

/** zxcvbn's estimate, also used by the sign-up page's strength meter, so the two agree. */
export const strengthEstimator = new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, maxLength: 256 });

/**
 * Below this many guesses a password is as good as on every attacker's list: keyboard walks,
 * sequences and repeats ("123", "qwerty12", "aaaaaaaa") that a frequency list can miss.
 */
export const COMMON_GUESSES_BELOW = 1000;

export const notCommon: PasswordValidator = {
  check(password) {
    if (commonPasswords.has(password.toLowerCase().trim())) return messages.passwordTooCommon;
    return strengthEstimator.check(password).guesses < COMMON_GUESSES_BELOW
      ? messages.passwordTooCommon
      : null;
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
