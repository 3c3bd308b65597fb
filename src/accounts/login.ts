// Use case: log in.
import type { IntegrityConfig, ThrottleConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import { type FieldErrors, ValidationError } from "../errors.js";
import type { AddressHasher } from "../referrals/addresses.js";
import { deviceFor } from "./devices.js";
import { verifyStoredPassword } from "./django-hashes.js";
import { checkBeforeVerifying, completeLogin } from "./login-store.js";
import { messages } from "./messages.js";
import type { PasswordHasher } from "./password-hasher.js";
import { newSession, type SessionClient, type SessionPolicy } from "./sessions.js";
import { loginCounters, throttled } from "./throttle.js";
import { usernameKey } from "./username.js";

export interface LoginDeps {
  db: Database;
  hasher: PasswordHasher;
  /** The shared-address signal's window: a login's address is remembered (keyed hash) when it is on. */
  integrity: Pick<IntegrityConfig, "sharedAddressDays">;
  addresses: AddressHasher;
  throttle: ThrottleConfig;
  session: SessionPolicy;
  clock: () => number;
}

export interface LoginRequest {
  /** NFKC-normalised and stripped, as the form leaves it. */
  username: string;
  password: string;
}

export interface LoginClient extends SessionClient {
  address: string;
  /** The stored hash of the browser's current session, ended when the new one starts. */
  sessionIdHash: string | null;
  /** The stored hash of the browser's device cookie, or null when it has none. */
  deviceIdHash: string | null;
}

export interface LoggedIn {
  userId: number;
  username: string;
  /** The cookie's value for the new session. */
  sessionId: string;
  /** A device cookie to give a browser that had none. */
  newDeviceId: string | null;
}

/**
 * Counts the attempt as a failure before the hash, so no more guesses than the limit are ever
 * verified, however many arrive at once; a right password then gives it back. A browser that has
 * logged in to the account before has a counter of its own, so strangers cannot lock its owner out.
 * An unknown username is verified against a dummy hash, so it costs what a wrong password costs.
 */
export async function authenticate(
  deps: LoginDeps,
  request: LoginRequest,
  client: LoginClient,
): Promise<LoggedIn> {
  const now = deps.clock();
  const counters = loginCounters(request.username, client, deps.throttle, now);
  const check = await checkBeforeVerifying(deps.db, {
    usernameKey: usernameKey(request.username),
    deviceIdHash: client.deviceIdHash,
    counters,
    reserve: true,
  });
  if (check.throttled) throw throttled(deps.throttle, now);
  const { user } = check;
  const hash = user?.passwordHash ?? (await deps.hasher.dummyHash());
  // A hash carried over from the Django version is read too, and replaced below (needsRehash).
  const valid = await verifyStoredPassword(deps.hasher, hash, request.password);
  if (!user || !valid) throw new ValidationError({ __all__: [messages.invalidLogin] });
  // Said only to someone who knows the password (as Django's AuthenticationForm says it): a wrong
  // password for a deactivated account gets the message above, and the hash was verified either way,
  // so the answer's time tells nothing either. The failure stays counted.
  if (!user.isActive) throw new ValidationError({ __all__: [messages.inactiveAccount] });
  const session = newSession(deps.session, client, now);
  const device = deviceFor(client.deviceIdHash);
  const started = await completeLogin(deps.db, {
    userId: user.id,
    session,
    endSessionIdHash: client.sessionIdHash,
    deviceIdHash: device.idHash,
    clearedBucket: (check.knownDevice ? counters.device : counters.user)?.bucket ?? null,
    addressCounter: counters.address,
    upgradedHash: deps.hasher.needsRehash(user.passwordHash)
      ? await deps.hasher.hash(request.password)
      : null,
    addressHash: deps.integrity.sharedAddressDays > 0 ? await deps.addresses.hash(client.address) : null,
  });
  // Deactivated while the password was being checked.
  if (!started) throw new ValidationError({ __all__: [messages.inactiveAccount] });
  return { userId: user.id, username: user.username, sessionId: session.id, newDeviceId: device.newId };
}

/** A form that failed its checks: refused as throttled when a counter is at its limit, else with its errors. */
export async function refuseLoginForm(
  deps: LoginDeps,
  form: { username: string | null; errors: FieldErrors },
  client: LoginClient,
): Promise<never> {
  const now = deps.clock();
  const check = await checkBeforeVerifying(deps.db, {
    usernameKey: form.username === null ? null : usernameKey(form.username),
    deviceIdHash: client.deviceIdHash,
    counters: loginCounters(form.username, client, deps.throttle, now),
    reserve: false,
  });
  if (check.throttled) throw throttled(deps.throttle, now);
  throw new ValidationError(form.errors);
}
