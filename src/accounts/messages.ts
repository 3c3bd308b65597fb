// The earlier version's messages, word for word, so its clients show the same text.

export const messages = {
  required: "This field is required.",
  tooLong: (max: number, actual: number) =>
    `Ensure this value has at most ${max} characters (it has ${actual}).`,
  invalidUsername:
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
  usernameTaken: "A user with that username already exists.",
  passwordMismatch: "The two password fields didn’t match.",
  passwordTooSimilar: "The password is too similar to the username.",
  passwordTooShort: (min: number) =>
    `This password is too short. It must contain at least ${min} characters.`,
  passwordTooCommon: "This password is too common.",
  passwordEntirelyNumeric: "This password is entirely numeric.",
  invalidLogin: "Please enter a correct username and password. Note that both fields may be case-sensitive.",
  inactiveAccount: "This account is inactive.",
  /** As Django words a taken username; addresses are compared with the domain's case ignored. */
  emailTaken: "A user with that email address already exists.",
} as const;

/**
 * The pages' own words where Django's would mislead a person; JSON clients keep Django's. Usernames
 * are compared case-insensitively, so only the password's case matters.
 */
export const pageMessages: Partial<Record<string, string>> = {
  [messages.invalidLogin]:
    "Please enter a correct username and password. Note that the password is case-sensitive.",
};

/** A form's errors in the pages' words. */
export function inPageWords(errors: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(errors).map(([field, list]) => [field, list.map((m) => pageMessages[m] ?? m)]),
  );
}
