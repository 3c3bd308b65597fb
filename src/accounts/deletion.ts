// Use case: a person deletes their own account, after typing their password. What is erased and
// what is kept (and why) is in SECURITY.md; deletion-store.ts does it in one statement.
import { randomBytes } from "node:crypto";
import type { ThrottleConfig } from "../config.js";
import type { Database } from "../db/connection.js";
import { ValidationError } from "../errors.js";
import { newReferralToken } from "../referrals/token.js";
import { eraseAccount } from "./deletion-store.js";
import { verifyStoredPassword } from "./django-hashes.js";
import { deletedAccountName } from "./forms.js";
import type { LoginClient } from "./login.js";
import { checkBeforeVerifying } from "./login-store.js";
import { messages } from "./messages.js";
import type { PasswordHasher } from "./password-hasher.js";
import { loginCounters, loginUserBucket, throttled } from "./throttle.js";
import { usernameKey } from "./username.js";

export interface DeletionDeps {
  db: Database;
  hasher: PasswordHasher;
  throttle: ThrottleConfig;
  clock: () => number;
}

/** As Django's password change form says a wrong current password. */
export const wrongPassword = "Your password was entered incorrectly. Please enter it again.";

/**
 * Checks the password as a login does (counted on the same failure counters first, so a stolen
 * session guesses no faster than a login could), then erases the account. Its sessions end with it.
 */
export async function deleteOwnAccount(
  deps: DeletionDeps,
  user: { id: number; username: string },
  password: unknown,
  client: LoginClient,
): Promise<void> {
  if (typeof password !== "string" || password === "") {
    throw new ValidationError({ password: [messages.required] });
  }
  const now = deps.clock();
  const counters = loginCounters(user.username, client, deps.throttle, now);
  const check = await checkBeforeVerifying(deps.db, {
    usernameKey: usernameKey(user.username),
    deviceIdHash: client.deviceIdHash,
    counters,
    reserve: true,
  });
  if (check.throttled) throw throttled(deps.throttle, now);
  const found = check.user;
  const hash = found?.id === user.id ? found.passwordHash : await deps.hasher.dummyHash();
  if (!(await verifyStoredPassword(deps.hasher, hash, password))) {
    throw new ValidationError({ password: [wrongPassword] });
  }
  await eraseAccount(deps.db, {
    userId: user.id,
    anonymousName: deletedAccountName(user.id),
    unusableHash: `!${randomBytes(30).toString("base64url")}`,
    referralToken: newReferralToken(),
    now: new Date(now),
    addressCounter: counters.address,
    clearedBuckets: [
      loginUserBucket(user.username),
      ...(check.knownDevice && counters.device ? [counters.device.bucket] : []),
    ],
  });
}
