// Use cases: a person adds or changes their address (a link is sent to it), staff send the link
// again, and the link, opened and confirmed, makes the address the account's verified one. An
// address is used for nothing until then; the verified address stays until the new one is confirmed.
import { messages } from "../accounts/messages.js";
import { linkEmailCounters, throttled } from "../accounts/throttle.js";
import { UserNotFound } from "../admin/adjustments.js";
import { recordAudit } from "../admin/audit.js";
import type { ThrottleConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import { ValidationError } from "../errors.js";
import { type EmailAddress, parseEmail } from "./address.js";
import type { MailDeps } from "./outbox.js";
import { emailTokenHashOf, newEmailToken, VERIFY_TOKEN_SECONDS } from "./tokens.js";
import {
  confirmAddress,
  EmailTaken,
  emailStateOf,
  findEmailToken,
  startVerification,
  type VerificationWrite,
  verifiedOwnerOf,
} from "./verification-store.js";

export interface EmailDeps {
  db: Database;
  mail: MailDeps;
  throttle: ThrottleConfig;
  clock: () => number;
}

export const alreadyYours = "This is already your verified address.";
export const nothingWaiting = "There is no address waiting for confirmation.";

/** The values of a verification message and its link, for the sign-up's transaction and the others. */
export function verificationFor(
  deps: Pick<EmailDeps, "throttle" | "clock" | "mail">,
  username: string,
  address: EmailAddress,
  origin: string,
): Omit<VerificationWrite, "userId"> {
  const now = deps.clock();
  return {
    username,
    address: address.address,
    token: newEmailToken(),
    expiresAt: new Date(now + VERIFY_TOKEN_SECONDS * 1000),
    origin,
    mailStatus: deps.mail.initialStatus,
    counters: linkEmailCounters("verify", address.key, deps.throttle, now),
  };
}

/**
 * The dashboard's form: sends a link to a new address. Refused, with the field's message, when the
 * address is this account's verified one already or another account's; 429 past the limits.
 */
export async function requestVerification(
  deps: EmailDeps,
  user: { id: number; username: string },
  address: EmailAddress,
  origin: string,
): Promise<void> {
  const owner = await verifiedOwnerOf(deps.db, address.key);
  if (owner === user.id) throw new ValidationError({ email: [alreadyYours] });
  if (owner !== null) throw new ValidationError({ email: [messages.emailTaken] });
  const sent = await startVerification(deps.db, {
    ...verificationFor(deps, user.username, address, origin),
    userId: user.id,
  });
  if (!sent) throw throttled(deps.throttle, deps.clock());
  deps.mail.wake();
}

/** Staff: a new link to the address waiting for confirmation (the old link stops working), audited. */
export async function resendVerification(
  deps: EmailDeps,
  actorId: number,
  userId: number,
  origin: string,
): Promise<{ address: string }> {
  const address = await deps.db.transaction(async (tx) => {
    const state = await emailStateOf(tx, userId);
    if (!state) throw new UserNotFound();
    const pending = state.pendingEmail === null ? null : parseEmail(state.pendingEmail);
    if (pending === null || "error" in pending) throw new ValidationError({ __all__: [nothingWaiting] });
    const write = { ...verificationFor(deps, state.username, pending, origin), userId };
    if (!(await startVerification(tx, write))) {
      throw throttled(deps.throttle, deps.clock());
    }
    await recordAudit(tx, { actorId, action: "email_verification_resent", targetUserId: userId });
    return pending.address;
  });
  deps.mail.wake();
  return { address };
}

/** What a verification link says, for its page: the address it confirms, or why it does not work. */
export type VerificationLink =
  | { status: "valid"; email: string; username: string }
  /** Confirmed now, or (`before`) used already and the address is the account's: nothing left to do. */
  | { status: "confirmed"; email: string; before?: boolean }
  /** Another account verified this address first. */
  | { status: "taken"; email: string }
  | { status: "invalid" };

/** The link's token and address, when the link still works; else what to say about it. */
async function lookUp(
  deps: EmailDeps,
  token: unknown,
): Promise<{ link: VerificationLink; tokenId?: number; key?: string }> {
  const hash = emailTokenHashOf(token);
  const found = hash === null ? null : await findEmailToken(deps.db, "verify", hash, new Date(deps.clock()));
  const parsed = found ? parseEmail(found.email) : null;
  if (!found?.accountOpen || !parsed || "error" in parsed) return { link: { status: "invalid" } };
  if (found.used && found.accountEmail === found.email) {
    return { link: { status: "confirmed", email: found.email, before: true } };
  }
  if (found.used || found.expired) return { link: { status: "invalid" } };
  const owner = await verifiedOwnerOf(deps.db, parsed.key);
  if (owner !== null && owner !== found.userId) return { link: { status: "taken", email: found.email } };
  return {
    link: { status: "valid", email: found.email, username: found.username },
    tokenId: found.id,
    key: parsed.key,
  };
}

/** Opening the link (GET): nothing changes, so a scanner that fetches it verifies nothing. */
export async function inspectVerification(deps: EmailDeps, token: unknown): Promise<VerificationLink> {
  return (await lookUp(deps, token)).link;
}

/** The Confirm button: the link's address becomes the account's verified address, once. */
export async function confirmVerification(deps: EmailDeps, token: unknown): Promise<VerificationLink> {
  const { link, tokenId, key } = await lookUp(deps, token);
  if (link.status !== "valid" || tokenId === undefined || key === undefined) return link;
  try {
    const done = await confirmAddress(deps.db, { tokenId, emailKey: key, now: new Date(deps.clock()) });
    return done ? { status: "confirmed", email: link.email } : { status: "invalid" };
  } catch (error) {
    if (error instanceof EmailTaken) return { status: "taken", email: link.email };
    throw error;
  }
}
