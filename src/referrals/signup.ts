// Use case: sign up, with or without a friend's referral link.

import { deviceFor } from "../accounts/devices.js";
import type { LoginClient } from "../accounts/login.js";
import { messages } from "../accounts/messages.js";
import type { PasswordHasher } from "../accounts/password-hasher.js";
import { newSession, type SessionPolicy } from "../accounts/sessions.js";
import { currentWindow, signupCounter, throttled } from "../accounts/throttle.js";
import { usernameKey } from "../accounts/username.js";
import type { IntegrityConfig, ProgramConfig, ThrottleConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import { releaseHits } from "../db/signal-counters.js";
import { releaseReservation } from "../db/throttle-counters.js";
import type { EmailAddress } from "../email/address.js";
import type { MailDeps } from "../email/outbox.js";
import { verificationFor } from "../email/verification.js";
import { type FieldErrors, ValidationError } from "../errors.js";
import type { EventDeps } from "../events/events.js";
import type { AddressHasher } from "./addresses.js";
import { decideReferral } from "./integrity.js";
import { checkBeforeHashing, createAccount, type SignalCheck, UsernameTaken } from "./signup-store.js";
import { newReferralToken } from "./token.js";

export interface SignupDeps {
  db: Database;
  hasher: PasswordHasher;
  program: ProgramConfig;
  integrity: IntegrityConfig;
  addresses: AddressHasher;
  throttle: ThrottleConfig;
  session: SessionPolicy;
  clock: () => number;
  /** Messages written with a change are handed to the email worker (src/email/outbox.ts). */
  mail: MailDeps;
  /** Events written with a change are handed to the webhook relay (src/events/events.ts). */
  webhooks: EventDeps;
}

export interface SignupRequest {
  /** NFKC-normalised, checked against Django's rules. */
  username: string;
  password: string;
  /** A well-formed token from the link, or null. */
  referralToken: string | null;
  /** An address typed at sign-up, and the origin its verification link is built on; absent: none. */
  email?: { address: EmailAddress; origin: string } | null;
}

/** The browser signing up: where from, and the session and device cookie it may already hold. */
export type SignupClient = LoginClient;

export interface SignupResult {
  userId: number;
  username: string;
  /** The cookie's value for the new account's first session. */
  sessionId: string;
  /** A device cookie to give a browser that had none. */
  newDeviceId: string | null;
  /** Null when there was no valid link: the sign-up went ahead without a referral. */
  inviterId: number | null;
  /** Approved (credited now) or held (the bonus pending); null without a referral. */
  referralStatus: "approved" | "held" | null;
  inviteeRewardCents: number;
  inviterRewardCents: number;
}

/**
 * Refuses a throttled address first; then a taken name (no hash spent on either); then looks at the
 * referral's signals, hashes, and writes the account, its session, its referral (approved or held)
 * and every credit the referral earns, all or nothing.
 */
export async function signUp(
  deps: SignupDeps,
  request: SignupRequest,
  client: SignupClient,
): Promise<SignupResult> {
  const now = deps.clock();
  const counter = signupCounter(client.address, deps.throttle, now);
  const key = usernameKey(request.username);
  const addressHash = deps.integrity.signalsOn ? await deps.addresses.hash(client.address) : null;
  const email = request.email ?? null;
  const check = await checkBeforeHashing(deps.db, {
    usernameKey: key,
    emailKey: email?.address.key ?? null,
    referralToken: request.referralToken,
    counter,
    reserve: true,
    signals:
      addressHash !== null && request.referralToken !== null
        ? signalCheck(deps, client, addressHash, now)
        : null,
  });
  if (check.throttled) throw throttled(deps.throttle, now);
  try {
    if (check.usernameTaken || check.emailTaken) throw new ValidationError(takenFields(check));
    const passwordHash = await deps.hasher.hash(request.password);
    const session = newSession(deps.session, client, now);
    const device = deviceFor(client.deviceIdHash);
    const created = await createAccount(deps.db, {
      account: {
        username: request.username,
        usernameKey: key,
        passwordHash,
        referralToken: newReferralToken(),
      },
      inviterId: check.inviterId,
      referral: {
        ...decideReferral(check.facts, deps.integrity, now),
        sameAddress: check.facts.sharedAddressOrdinal > 0,
      },
      rewards: {
        program: deps.program,
        monthlyCapCents: deps.integrity.monthlyCapCents,
        mailStatus: deps.mail.initialStatus,
      },
      now,
      session,
      endSessionIdHash: client.sessionIdHash,
      deviceIdHash: device.idHash,
      addressHash: deps.integrity.sharedAddressDays > 0 ? addressHash : null,
      verification: email && verificationFor(deps, request.username, email.address, email.origin),
    });
    if (created.mayHaveEmail) deps.mail.wake();
    deps.webhooks.wake(created.deliveryIds);
    return {
      userId: created.userId,
      username: request.username,
      sessionId: session.id,
      newDeviceId: device.newId,
      inviterId: created.inviterId,
      referralStatus: created.referralStatus,
      inviteeRewardCents: created.inviteeBonusCents,
      inviterRewardCents: created.inviterRewards.reduce((sum, reward) => sum + reward.amountCents, 0),
    };
  } catch (error) {
    // Only sign-ups that happened count toward the address's limit and the signals' counters.
    await releaseReservation(deps.db, counter);
    await releaseHits(deps.db, check.counted);
    if (error instanceof UsernameTaken) throw new ValidationError({ username: [messages.usernameTaken] });
    throw error;
  }
}

/** A taken name and a taken address, reported together as Django reports its fields. */
function takenFields(check: { usernameTaken: boolean; emailTaken: boolean }): FieldErrors {
  return {
    ...(check.usernameTaken ? { username: [messages.usernameTaken] } : {}),
    ...(check.emailTaken ? { email: [messages.emailTaken] } : {}),
  };
}

const HOUR_SECONDS = 3600;
const DAY_MS = 86_400_000;

/** What the signals look at for this browser and address, by the settings in force. */
function signalCheck(deps: SignupDeps, client: SignupClient, addressHash: string, now: number): SignalCheck {
  const config = deps.integrity;
  const days = config.sharedAddressDays;
  return {
    addressHash,
    sessionIdHash: config.selfReferral ? client.sessionIdHash : null,
    deviceIdHash: config.selfReferral ? client.deviceIdHash : null,
    hour: currentWindow(now, HOUR_SECONDS),
    sharedAddress:
      days > 0
        ? { window: currentWindow(now, days * 86_400), seenSince: new Date(now - days * DAY_MS) }
        : null,
    linkVelocity: config.linkSignupsPerHour > 0,
    addressVelocity: config.addressSignupsPerHour > 0,
    rejectedSince:
      config.rejectionsBeforeHold > 0 ? new Date(now - config.rejectionsWindowDays * DAY_MS) : null,
  };
}

/**
 * A form that failed its checks: refused as throttled when the address is at its limit, else with
 * its errors and, as Django reports them together, a taken name.
 */
export async function refuseSignupForm(
  deps: SignupDeps,
  form: { username: string | null; email?: EmailAddress | null; errors: FieldErrors },
  client: SignupClient,
): Promise<never> {
  const now = deps.clock();
  const check = await checkBeforeHashing(deps.db, {
    usernameKey: form.username === null ? null : usernameKey(form.username),
    emailKey: form.email?.key ?? null,
    referralToken: null,
    counter: signupCounter(client.address, deps.throttle, now),
    reserve: false,
  });
  if (check.throttled) throw throttled(deps.throttle, now);
  throw new ValidationError({ ...takenFields(check), ...form.errors });
}
