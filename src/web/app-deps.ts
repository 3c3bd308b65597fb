// What the web layer is built from: passed in, never imported as singletons, so tests can swap parts.
import type { Throttle } from "../accounts/throttle.js";
import type { Config } from "../config.js";
import type { Database, DatabaseHandle } from "../db/connection.js";
import type { SignupResult } from "../referrals/signup.js";

/** Things worth counting (metrics); every method is cheap and never throws. */
export interface ServiceEvents {
  signedUp(result: SignupResult): void;
  loginFailed(): void;
  /** A request refused with 429. */
  throttled?(kind: "login" | "signup"): void;
}

export interface AppDeps {
  db: Database;
  config: Config;
  /** The database handle, for readiness checks and pool metrics. */
  database?: DatabaseHandle;
  hashPassword?: (password: string) => Promise<string>;
  /** Defaults to database-backed throttling with the configured limits. */
  throttle?: Throttle;
  events?: ServiceEvents;
}

/** AppDeps once buildApp has filled in the defaults: what routes receive. */
export type RouteDeps = AppDeps & { throttle: Throttle };
