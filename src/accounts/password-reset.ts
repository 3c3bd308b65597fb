// Use cases: "Forgot your password?" sends a link to the account's verified address, and the link
// sets a new password. The same answer, in the same time, whether or not the address is known; a
// successful reset ends every session of the account and logs this browser in.
import type { ThrottleConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import type { EmailAddress } from "../email/address.js";
import type { MailDeps } from "../email/outbox.js";
import { emailTokenHashOf, newEmailToken, RESET_TOKEN_SECONDS } from "../email/tokens.js";
import { findEmailToken } from "../email/verification-store.js";
import { FieldErrorList, ValidationError } from "../errors.js";
import { deviceFor } from "./devices.js";
import { checkNewPassword, type FormInput, type PasswordErrorLayout } from "./forms.js";
import type { LoginClient } from "./login.js";
import type { PasswordHasher } from "./password-hasher.js";
import { completeReset, writeResetLink } from "./password-reset-store.js";
import { newSession, type SessionPolicy } from "./sessions.js";
import { linkEmailCounters } from "./throttle.js";

export interface ResetDeps {
  db: Database;
  hasher: PasswordHasher;
  session: SessionPolicy;
  throttle: ThrottleConfig;
  clock: () => number;
  mail: MailDeps;
}

/**
 * Writes a link for the open account with this verified address, if there is one and neither the
 * address nor the account has had its 3 links this window. The caller answers the same whatever
 * this returns (true: a message was written), so nobody learns whether an address has an account.
 */
export async function requestPasswordReset(
  deps: ResetDeps,
  address: EmailAddress,
  origin: string,
): Promise<boolean> {
  const now = deps.clock();
  const sent = await writeResetLink(deps.db, {
    emailKey: address.key,
    token: newEmailToken(),
    expiresAt: new Date(now + RESET_TOKEN_SECONDS * 1000),
    origin,
    mailStatus: deps.mail.initialStatus,
    counters: linkEmailCounters("reset", address.key, deps.throttle, now),
  });
  // Woken either way: the answer's time does not depend on it.
  deps.mail.wake();
  return sent;
}

export type ResetLink = { status: "valid"; tokenId: number; username: string } | { status: "invalid" };

/** What a reset link is: still usable (unused, within its hour, an open account), or not. */
export async function inspectReset(
  deps: Pick<ResetDeps, "db" | "clock">,
  token: unknown,
): Promise<ResetLink> {
  const hash = emailTokenHashOf(token);
  const found = hash === null ? null : await findEmailToken(deps.db, "reset", hash, new Date(deps.clock()));
  if (!found || found.used || found.expired || !found.accountOpen) return { status: "invalid" };
  return { status: "valid", tokenId: found.id, username: found.username };
}

export type ResetOutcome =
  | {
      status: "reset";
      username: string;
      sessionId: string;
      newDeviceId: string | null;
      sessionsEnded: number;
    }
  | { status: "invalid" };

/**
 * The new password, checked by the sign-up's rules (against the account's name too), hashed, and
 * written with the link's use; every session of the account ends and this browser gets a new one.
 */
export async function resetPassword(
  deps: ResetDeps,
  request: { token: unknown; input: FormInput; layout: PasswordErrorLayout },
  client: LoginClient,
): Promise<ResetOutcome> {
  const link = await inspectReset(deps, request.token);
  if (link.status === "invalid") return link;
  const errors = new FieldErrorList();
  const password = checkNewPassword(request.input, link.username, request.layout, errors);
  if (password === null) throw new ValidationError(errors.fields);
  const passwordHash = await deps.hasher.hash(password);
  const now = deps.clock();
  const session = newSession(deps.session, client, now);
  const device = deviceFor(client.deviceIdHash);
  const done = await completeReset(deps.db, {
    tokenId: link.tokenId,
    passwordHash,
    now: new Date(now),
    session,
    endSessionIdHash: client.sessionIdHash,
    deviceIdHash: device.idHash,
  });
  if (!done) return { status: "invalid" };
  return {
    status: "reset",
    username: link.username,
    sessionId: session.id,
    newDeviceId: device.newId,
    sessionsEnded: done.sessionsEnded,
  };
}
