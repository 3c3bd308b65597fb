// Periodic clean-up: sessions past their expiry and throttle counters of ended windows.
import type { Database } from "../db/connection.js";
import { purgeExpiredSessions, type SessionPolicy } from "./sessions.js";
import type { Throttle } from "./throttle.js";

export interface HousekeepingResult {
  sessions: number;
  throttleCounters: number;
}

export async function cleanUpExpired(
  db: Database,
  policy: SessionPolicy,
  throttle: Throttle,
): Promise<HousekeepingResult> {
  return {
    sessions: await purgeExpiredSessions(db, policy),
    throttleCounters: await throttle.purgeExpired(),
  };
}

/** Runs the clean-up every `everyMs`; the timer never keeps the process alive. Returns a stop function. */
export function scheduleHousekeeping(
  run: () => Promise<unknown>,
  everyMs: number,
  onError: (e: unknown) => void,
) {
  const timer = setInterval(() => {
    run().catch(onError);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
