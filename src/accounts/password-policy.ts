// Password rules, each a small validator with one message, run in the earlier version's order.
// All that fail are reported together.
import { Options, ZxcvbnFactory } from "@zxcvbn-ts/core";
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

const commonnessOptions = {
  dictionary: Object.fromEntries(
    Object.entries(dictionary).map(([name, words]) => [name, words.slice(0, COMMON_GUESSES_BELOW - 1)]),
  ),
  graphs: adjacencyGraphs,
  maxLength: 256,
};

/**
 * The same estimate for the one question the rule asks, "fewer than COMMON_GUESSES_BELOW guesses?",
 * with every ranked list cut to its first COMMON_GUESSES_BELOW - 1 words. The answer is the same as
 * with the full lists: a dictionary match guesses at least its rank, a sequence of matches at least
 * the product of theirs, and zxcvbn keeps the cheapest sequence, so a password under the threshold
 * uses only words ranked under it (all kept), and one at or over it cannot fall under it when words
 * are taken away. It takes about 40% less time (the sign-up's main-thread share of zxcvbn) and 6 MB
 * less memory. test/unit/password-policy.test.ts checks the two agree on generated passwords.
 */
export const commonnessEstimator = new ZxcvbnFactory(commonnessOptions);

/** What that estimator works with, as zxcvbn sees it: its l33t table, keyboards and word lists. */
const commonness = new Options(commonnessOptions);

/** Dates are at most 10 characters ("11/11/1991"), years 4, separators 1. */
const LONGEST_FIXED_PATTERN = 10;

/** Every character some l33t substitution is written with ("4" for a, "vv" for w, …). */
const l33tCharacters = new Set(Object.values(commonness.l33tTable).flat().join("").toLowerCase());

/** The cut-down lists' words, each also reversed (zxcvbn matches reversed words too). */
const listedWords = Object.values(commonness.rankedDictionaries).flatMap((ranked) =>
  Object.keys(ranked).flatMap((word) => [word, [...word].reverse().join("")]),
);
const longestListedWord = Math.max(0, ...listedWords.map((word) => word.length));

/** The shortcut's reasoning holds only for zxcvbn's own matchers over plain word lists. */
const shortcutApplies =
  Object.keys(commonness.matchers).length === 0 &&
  !commonness.useLevenshteinDistance &&
  Object.keys(commonness.rankedDictionaries).every((name) => !commonness.isWordSequence(name));

function isSubsequence(part: string, of: string): boolean {
  let at = 0;
  for (const ch of of) if (ch === part[at]) at++;
  return at === part.length;
}

/** Could be a listed word, reversed or in l33t: what l33t cannot have written is in a word, in order. */
function couldBeListedWord(password: string): boolean {
  const kept = [...password.toLowerCase()].filter((ch) => !l33tCharacters.has(ch)).join("");
  return kept.length <= longestListedWord && listedWords.some((word) => isSubsequence(kept, word));
}

function isKeyboardWalk(password: string): boolean {
  return Object.values(commonness.graphs).some((graph) => {
    for (let k = 1; k < password.length; k++) {
      const neighbours = graph[password.charAt(k - 1)] ?? [];
      if (!neighbours.some((keys) => keys?.includes(password.charAt(k)))) return false;
    }
    return true;
  });
}

function isRepeat(password: string): boolean {
  const length = password.length;
  for (let period = 1; period <= length / 2; period++) {
    if (length % period === 0 && password.slice(0, period).repeat(length / period) === password) return true;
  }
  return false;
}

function isSequence(password: string): boolean {
  const step = password.charCodeAt(1) - password.charCodeAt(0);
  for (let k = 2; k < password.length; k++) {
    if (password.charCodeAt(k) - password.charCodeAt(k - 1) !== step) return false;
  }
  return true;
}

function isAscii(text: string): boolean {
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) > 0x7f) return false;
  return true;
}

/**
 * Whether zxcvbn could put `password` under COMMON_GUESSES_BELOW at all: false only when it
 * certainly cannot, by checks far cheaper than zxcvbn (about a third of a sign-up's event-loop time
 * before this), so most passwords never reach zxcvbn and the verdict is still always zxcvbn's.
 *
 * zxcvbn scores a password by its cheapest cover with l matches: l! × (the product of their
 * guesses) + 10,000^(l−1). With two matches or more that is over 10,000, so a password under the
 * threshold is one match spanning all of it. For an ASCII password longer than any date, year or
 * separator, and far too long for brute force (10^11 guesses), that one match is
 *  - a listed word, maybe reversed, maybe in l33t: the characters that no l33t substitution is
 *    written with then appear, in order, in a listed word or in one reversed;
 *  - a keyboard walk: every character is next to the one before it on one keyboard;
 *  - a repeat: the password is one string written two times or more;
 *  - a sequence: every step from one character to the next is the same ("acegikmoqs").
 * Anything else is asked of zxcvbn, as is every password when the estimator's options leave this
 * reasoning (custom matchers, fuzzy matching, word-sequence lists). test/unit/password-policy.test.ts
 * checks it never answers false where zxcvbn finds fewer guesses.
 */
export function couldBeGuessedWithinCommonThreshold(password: string): boolean {
  const seen = password.substring(0, commonness.maxLength);
  // Outside ASCII, lower-casing can change a string's length, and zxcvbn's indices with it.
  if (!shortcutApplies || seen.length <= LONGEST_FIXED_PATTERN || !isAscii(seen)) return true;
  return couldBeListedWord(seen) || isKeyboardWalk(seen) || isRepeat(seen) || isSequence(seen);
}

export function guessedWithinCommonThreshold(password: string, estimator = commonnessEstimator): boolean {
  return estimator.check(password).guesses < COMMON_GUESSES_BELOW;
}

export const notCommon: PasswordValidator = {
  check(password) {
    if (commonPasswords.has(password.toLowerCase().trim())) return messages.passwordTooCommon;
    return couldBeGuessedWithinCommonThreshold(password) && guessedWithinCommonThreshold(password)
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
