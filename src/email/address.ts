// Email addresses as people type them: checked, and given the key that uniqueness compares.
//
// The part before the @ is kept as typed (mail servers may treat it case-sensitively); the domain is
// lower-cased, since domains are not. Two addresses that differ only in the domain's case are one.

/** Django's EmailField allows 254 characters (RFC 5321's path limit less the brackets). */
export const EMAIL_MAX_LENGTH = 254;

// A pragmatic shape, as Django's EmailValidator: a dot-atom local part, and a domain of labels with
// a final label of letters (or an IDN's punycode). No quoted local parts, no address literals.
const localPattern = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const labelPattern = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const topLabelPattern = /^(?!-)([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})(?<!-)$/;

export interface EmailAddress {
  /** As typed, with the domain lower-cased. */
  address: string;
  /** What uniqueness compares (users.email_key). */
  key: string;
}

export const EMAIL_INVALID = "Enter a valid email address.";
export const EMAIL_TOO_LONG = `Ensure this value has at most ${EMAIL_MAX_LENGTH} characters.`;

/** The address, or the message to show beside the field. */
export function parseEmail(raw: string): EmailAddress | { error: string } {
  const typed = raw.trim();
  if (typed.length > EMAIL_MAX_LENGTH) return { error: EMAIL_TOO_LONG };
  const at = typed.lastIndexOf("@");
  if (at <= 0 || at === typed.length - 1) return { error: EMAIL_INVALID };
  const local = typed.slice(0, at);
  const domain = typed.slice(at + 1).toLowerCase();
  if (local.length > 64 || !localPattern.test(local)) return { error: EMAIL_INVALID };
  const labels = domain.split(".");
  const top = labels.at(-1) ?? "";
  if (labels.length < 2 || !labels.every((label) => labelPattern.test(label)) || !topLabelPattern.test(top)) {
    return { error: EMAIL_INVALID };
  }
  const address = `${local}@${domain}`;
  return { address, key: address };
}

/** For a log line or a staff list: the first letter and the domain ("a…@example.com"). */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf("@");
  return at <= 0 ? "…" : `${address[0]}…${address.slice(at)}`;
}
