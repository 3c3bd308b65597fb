// Password rules: Django 3.2's four validators, each with its message, run in Django's order and
// reported together; then, for a password Django would accept, zxcvbn's list and estimate.
import { Options, ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import { djangoCommonPasswordText } from "./django-common-passwords.js";
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
    // Python's re.split(r"\W+"): its \w is this class for every code point Python's Unicode knows.
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

/** Python's whitespace, which str.strip() removes: unlike trim(), U+001C-U+001F and U+0085 but not U+FEFF. */
const pythonSpace = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const pythonOuterSpace = new RegExp(`^${pythonSpace}+|${pythonSpace}+$`, "g");

/** Python's str.strip(). */
function pythonStrip(text: string): string {
  return text.replace(pythonOuterSpace, "");
}

/** Django 3.2's common-password list, each line stripped as Django reads it. */
const djangoCommonPasswords = new Set(
  djangoCommonPasswordText
    .split("\n")
    .map(pythonStrip)
    .filter((entry) => entry !== ""),
);

/** Django's CommonPasswordValidator: the whole password, lower-cased and stripped, is on its list. */
export const notCommon: PasswordValidator = {
  check: (password) =>
    djangoCommonPasswords.has(pythonStrip(password.toLowerCase())) ? messages.passwordTooCommon : null,
};

/**
 * The code points Python's str.isdigit() accepts (Python 3.11, Unicode 14): decimal digits and the
 * characters with a digit value, such as ² ₃ ①. Hexadecimal ranges, built into one pattern.
 */
const pythonDigitRanges =
  "30-39 b2-b3 b9 660-669 6f0-6f9 7c0-7c9 966-96f 9e6-9ef a66-a6f ae6-aef b66-b6f be6-bef c66-c6f " +
  "ce6-cef d66-d6f de6-def e50-e59 ed0-ed9 f20-f29 1040-1049 1090-1099 1369-1371 17e0-17e9 1810-1819 " +
  "1946-194f 19d0-19da 1a80-1a89 1a90-1a99 1b50-1b59 1bb0-1bb9 1c40-1c49 1c50-1c59 2070 2074-2079 " +
  "2080-2089 2460-2468 2474-247c 2488-2490 24ea 24f5-24fd 24ff 2776-277e 2780-2788 278a-2792 a620-a629 " +
  "a8d0-a8d9 a900-a909 a9d0-a9d9 a9f0-a9f9 aa50-aa59 abf0-abf9 ff10-ff19 104a0-104a9 10a40-10a43 " +
  "10d30-10d39 10e60-10e68 11052-1105a 11066-1106f 110f0-110f9 11136-1113f 111d0-111d9 112f0-112f9 " +
  "11450-11459 114d0-114d9 11650-11659 116c0-116c9 11730-11739 118e0-118e9 11950-11959 11c50-11c59 " +
  "11d50-11d59 11da0-11da9 16a60-16a69 16ac0-16ac9 16b50-16b59 1d7ce-1d7ff 1e140-1e149 1e2f0-1e2f9 " +
  "1e950-1e959 1f100-1f10a 1fbf0-1fbf9";
const pythonDigitClass = pythonDigitRanges
  .split(" ")
  .map((range) =>
    range
      .split("-")
      .map((hex) => `\\u{${hex}}`)
      .join("-"),
  )
  .join("");
const entirelyDigits = new RegExp(`^[${pythonDigitClass}]+$`, "u");

/** Django's NumericPasswordValidator: password.isdigit(). */
export const notEntirelyNumeric: PasswordValidator = {
  check: (password) => (entirelyDigits.test(password) ? messages.passwordEntirelyNumeric : null),
};

/** Django's validators, in the order of its default AUTH_PASSWORD_VALIDATORS. */
export const passwordValidators: readonly PasswordValidator[] = [
  similarToUsername,
  minimumLength,
  notCommon,
  notEntirelyNumeric,
];

/** Tens of thousands of common passwords, from zxcvbn-ts's maintained list: beyond Django's. */
const zxcvbnCommonPasswords = new Set(dictionary["passwords-common"].map((p) => String(p).toLowerCase()));

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

/** Beyond Django: on zxcvbn's list, or guessed by zxcvbn within COMMON_GUESSES_BELOW. */
export const notGuessable: PasswordValidator = {
  check(password) {
    if (zxcvbnCommonPasswords.has(password.toLowerCase().trim())) return messages.passwordTooCommon;
    return couldBeGuessedWithinCommonThreshold(password) && guessedWithinCommonThreshold(password)
      ? messages.passwordTooCommon
      : null;
  },
};

/**
 * Django's messages whenever Django refuses the password, word for word, so its clients show the
 * same text; a password Django accepts may still be refused as too common by zxcvbn.
 */
export function passwordProblems(password: string, context: PasswordContext): string[] {
  const problems: string[] = [];
  for (const validator of passwordValidators) {
    const message = validator.check(password, context);
    if (message) problems.push(message);
  }
  if (problems.length === 0) {
    const message = notGuessable.check(password, context);
    if (message) problems.push(message);
  }
  return problems;
}

/** How many passwords are refused by name: Django's list and zxcvbn's together. */
export function commonPasswordCount(): number {
  return new Set([...djangoCommonPasswords, ...zxcvbnCommonPasswords]).size;
}
