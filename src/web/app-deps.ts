// What the web layer is built from: passed in, never imported as singletons, so tests can swap parts.
import type { PasswordHasher } from "../accounts/password-hasher.js";
import type { ThrottleKind } from "../accounts/throttle.js";
import type { Config } from "../config.js";
import type { Database, DatabaseHandle } from "../db/connection.js";
import type { LinkOpenCounter } from "../referrals/link-opens.js";
import type { SignupDeps, SignupResult } from "../referrals/signup.js";

/** Things worth counting (metrics); every method is cheap and never throws. */
export interface ServiceEvents {
  signedUp(result: SignupResult): void;
  loginFailed(): void;
  /** A request refused with 429. */
  throttled(kind: ThrottleKind): void;
  /** A held referral approved or rejected, by staff or by the end of the hold. */
  referralDecided(decision: ReferralDecided): void;
  /** A referral link opened by a visitor not counted for it yet today. */
  linkOpened(): void;
}

export interface ReferralDecided {
  status: "approved" | "rejected";
  by: "staff" | "hold";
  /** The invitee's pending credit posted (approved) or voided (rejected). */
  amountCents: number;
  /** Inviter rewards paid because the approval completed a five. */
  inviterRewardCents: number;
}

export interface AppDeps {
  db: Database;
  config: Config;
  hasher: PasswordHasher;
  /** The database handle, for readiness checks and pool metrics. */
  database?: DatabaseHandle;
  /** Milliseconds since the epoch; tests move it to cross throttle windows. */
  clock?: () => number;
  events?: Partial<ServiceEvents>;
}

/** What the use cases are given: the sign-up's deps are a superset of the login's and the review's. */
export type UseCaseDeps = SignupDeps;

/** AppDeps once buildApp has filled in the defaults: what routes receive. */
export type RouteDeps = AppDeps & {
  events: ServiceEvents;
  useCases: UseCaseDeps;
  /** Link opens counted in memory until the next flush (src/referrals/link-opens.ts). */
  linkOpens: LinkOpenCounter;
};
