// Periodic clean-up: sessions past their expiry, throttle counters of ended windows, and browsers
// whose device cookie has expired.
import type { Config } from "../config.js";
import type { Database } from "../db/connection.js";
import { purgeDevicesUnseenSince } from "../db/known-devices.js";
import { purgeCountersBefore } from "../db/throttle-counters.js";
import { DEVICE_COOKIE_MAX_AGE_SECONDS } from "./devices.js";
import { purgeExpiredSessions } from "./sessions.js";
import { currentWindow } from "./throttle.js";

export interface HousekeepingResult {
  sessions: number;
  throttleCounters: number;
  devices: number;
}

export async function cleanUpExpired(
  db: Database,
  config: Pick<Config, "session" | "throttle">,
  now: number,
): Promise<HousekeepingResult> {
  return {
    sessions: await purgeExpiredSessions(db, config.session),
    throttleCounters: await purgeCountersBefore(db, currentWindow(now, config.throttle.windowSeconds).start),
    devices: await purgeDevicesUnseenSince(db, new Date(now - DEVICE_COOKIE_MAX_AGE_SECONDS * 1000)),
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
