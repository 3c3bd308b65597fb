// Usernames: Django's rules (letters, digits and @ . + - _; at most 150 characters), NFKC-normalised.
import { messages } from "./messages.js";

export const USERNAME_MAX_LENGTH = 150;
const usernamePattern = /^[\p{L}\p{N}_.@+-]+$/u;

/** The username as stored: NFKC-normalised, as Django's normalize_username. */
export function normalizeUsername(username: string): string {
  return username.normalize("NFKC");
}

/**
 * The key that uniqueness and login compare: NFKC and case-folded, so "Alice", "ALICE" and
 * "ａｌｉｃｅ" are one user. Upper- then lower-casing approximates Unicode full case folding (ß → ss).
 */
export function usernameKey(username: string): string {
  return username.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC");
}

/** Length in characters (code points), as Python counts it. */
export function characterCount(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/** The messages for a username's shape (uniqueness is the database's unique index). */
export function usernameProblems(username: string): string[] {
  const problems: string[] = [];
  const length = characterCount(username);
  if (length > USERNAME_MAX_LENGTH) problems.push(messages.tooLong(USERNAME_MAX_LENGTH, length));
  if (!usernamePattern.test(username)) problems.push(messages.invalidUsername);
  return problems;
}
