// Periodic clean-up: sessions past their expiry and throttle counters of ended windows.
import type { Config } from "../config.js";
import type { Database } from "../db/connection.js";
import { purgeCountersBefore } from "../db/throttle-counters.js";
import { purgeExpiredSessions } from "./sessions.js";
import { currentWindow } from "./throttle.js";

export interface HousekeepingResult {
  sessions: number;
  throttleCounters: number;
}

export async function cleanUpExpired(
  db: Database,
  config: Pick<Config, "session" | "throttle">,
  now: number,
): Promise<HousekeepingResult> {
  return {
    sessions: await purgeExpiredSessions(db, config.session),
    throttleCounters: await purgeCountersBefore(db, currentWindow(now, config.throttle.windowSeconds).start),
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
