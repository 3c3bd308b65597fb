// The sign-up and login forms: required fields, lengths and the password rules, as the earlier
// version's Django forms validate them, with the same messages.
import { type EmailAddress, parseEmail } from "../email/address.js";
import { FieldErrorList, type FieldErrors } from "../errors.js";
import { messages } from "./messages.js";
import { PASSWORD_MAX_LENGTH, passwordProblems } from "./password-policy.js";
import { characterCount, normalizeUsername, usernameProblems } from "./username.js";

export type FormInput = Record<string, unknown>;

/** A checked form: its values when every check passed, else the errors. */
export interface CheckedForm {
  value: { username: string; password: string } | null;
  /** The normalised username when it passed its own checks (a taken name is still to be found). */
  username: string | null;
  errors: FieldErrors;
}

/** A field's text, or null when it is missing, empty or not text. Django strips usernames, not passwords. */
function field(input: FormInput, name: string, strip: boolean): string | null {
  const raw = input[name];
  if (typeof raw !== "string") return null;
  const value = strip ? raw.trim() : raw;
  return value === "" ? null : value;
}

function passwordField(input: FormInput, name: string, errors: FieldErrorList): string | null {
  const value = field(input, name, false);
  if (value === null) {
    errors.add(name, messages.required);
    return null;
  }
  const length = characterCount(value);
  if (length > PASSWORD_MAX_LENGTH) {
    errors.add(name, messages.tooLong(PASSWORD_MAX_LENGTH, length));
    return null;
  }
  return value;
}

/**
 * Where the sign-up's password problems go. `django` is the earlier version's answer, which JSON
 * clients read: the rules under `password2`, and only once the two passwords match. `page` is for
 * people: every rule the password breaks under the Password field (`password1`), even when the
 * confirmation differs, which `password2` then says on its own.
 */
export type PasswordErrorLayout = "django" | "page";

/** A checked sign-up form: the address, optional, is checked with the rest. */
export interface CheckedSignupForm extends CheckedForm {
  value: { username: string; password: string; email: EmailAddress | null } | null;
  /** The address when it passed its own checks (whether another account has it is still to be found). */
  email: EmailAddress | null;
}

/** Checks everything but uniqueness, which needs the database. */
export function checkSignupForm(input: FormInput, layout: PasswordErrorLayout = "django"): CheckedSignupForm {
  const errors = new FieldErrorList();
  const rawUsername = field(input, "username", true);
  let username: string | null = null;
  if (rawUsername === null) {
    errors.add("username", messages.required);
  } else {
    username = normalizeUsername(rawUsername);
    for (const problem of usernameProblems(username)) errors.add("username", problem);
    // The names deleted accounts are given (deletion.ts): never a new person's.
    if (isDeletedAccountName(username)) errors.add("username", messages.usernameTaken);
  }
  const password = checkNewPassword(input, username ?? "", layout, errors);
  // Optional: missing or empty is no address, as for the earlier clients, which never send one.
  const rawEmail = field(input, "email", true);
  const parsed = rawEmail === null ? null : parseEmail(rawEmail);
  if (parsed !== null && "error" in parsed) errors.add("email", parsed.error);
  const email = parsed !== null && !("error" in parsed) ? parsed : null;
  const value = errors.empty && username !== null && password !== null ? { username, password, email } : null;
  return { value, username: errors.has("username") ? null : username, email, errors: errors.fields };
}

/**
 * A new password typed twice (sign-up, reset): the rules, and the two alike. Returns the password
 * when both fields passed; the problems go into `errors` under the layout's fields.
 */
export function checkNewPassword(
  input: FormInput,
  username: string,
  layout: PasswordErrorLayout,
  errors: FieldErrorList,
): string | null {
  const password1 = passwordField(input, "password1", errors);
  const password2 = passwordField(input, "password2", errors);
  if (layout === "page") {
    // The rules judge what was typed in the Password field, whatever the confirmation holds.
    if (password1 !== null) {
      for (const problem of passwordProblems(password1, { username })) errors.add("password1", problem);
    }
    if (password1 !== null && password2 !== null && password1 !== password2) {
      errors.add("password2", messages.passwordMismatch);
    }
  } else if (password1 !== null && password2 !== null) {
    if (password1 !== password2) {
      errors.add("password2", messages.passwordMismatch);
    } else {
      for (const problem of passwordProblems(password2, { username })) errors.add("password2", problem);
    }
  }
  return !errors.has("password1") && !errors.has("password2") ? password2 : null;
}

/** `deleted-42`: the name an account takes when its owner deletes it. */
export function deletedAccountName(userId: number): string {
  return `deleted-${userId}`;
}

export function isDeletedAccountName(username: string): boolean {
  return /^deleted-[0-9]+$/i.test(username);
}

export function checkLoginForm(input: FormInput): CheckedForm {
  const errors = new FieldErrorList();
  const rawUsername = field(input, "username", true);
  if (rawUsername === null) errors.add("username", messages.required);
  const password = passwordField(input, "password", errors);
  const username = rawUsername === null ? null : normalizeUsername(rawUsername);
  const value = errors.empty && username !== null && password !== null ? { username, password } : null;
  return { value, username, errors: errors.fields };
}
