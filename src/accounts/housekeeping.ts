// Periodic clean-up: sessions past their expiry, throttle and signal counters of ended windows,
// browsers whose device cookie has expired, address sightings older than the shared-address window,
// links sent by email a day after they stopped working, the API's idempotency answers, and events
// past their retention.
import { purgeIdempotencyKeysBefore } from "../api/idempotency.js";
import type { Config } from "../config.js";
import { purgeSightingsBefore } from "../db/address-sightings.js";
import type { Database } from "../db/connection.js";
import { purgeDevicesUnseenSince } from "../db/known-devices.js";
import { purgeEndedSignalCounters } from "../db/signal-counters.js";
import { purgeCountersBefore } from "../db/throttle-counters.js";
import { purgeEmailTokensExpiredBefore } from "../email/verification-store.js";
import { purgeEventsBefore } from "../events/events.js";
import { DEVICE_COOKIE_MAX_AGE_SECONDS } from "./devices.js";
import { purgeExpiredSessions } from "./sessions.js";
import { currentWindow } from "./throttle.js";

export interface HousekeepingResult {
  sessions: number;
  throttleCounters: number;
  devices: number;
  signalCounters: number;
  addressSightings: number;
  emailTokens: number;
  idempotencyKeys: number;
  events: number;
}

export async function cleanUpExpired(
  db: Database,
  config: Pick<Config, "session" | "throttle" | "integrity" | "api" | "webhooks">,
  now: number,
): Promise<HousekeepingResult> {
  // Kept no longer than the shared-address signal looks back (not at all when it is off).
  const sightingsBefore = new Date(now - config.integrity.sharedAddressDays * 86_400_000);
  return {
    sessions: await purgeExpiredSessions(db, config.session),
    throttleCounters: await purgeCountersBefore(db, currentWindow(now, config.throttle.windowSeconds).start),
    devices: await purgeDevicesUnseenSince(db, new Date(now - DEVICE_COOKIE_MAX_AGE_SECONDS * 1000)),
    signalCounters: await purgeEndedSignalCounters(db, new Date(now)),
    addressSightings: await purgeSightingsBefore(db, sightingsBefore),
    // A day past their end, so a link opened again soon after its use still finds its row.
    emailTokens: await purgeEmailTokensExpiredBefore(db, new Date(now - 86_400_000)),
    // The API's kept answers to Idempotency-Keys, once API_IDEMPOTENCY_HOURS have passed.
    idempotencyKeys: await purgeIdempotencyKeysBefore(
      db,
      new Date(now - config.api.idempotencyHours * 3_600_000),
    ),
    // Events, their deliveries and attempts after EVENT_RETENTION_DAYS, unless still being delivered.
    events: await purgeEventsBefore(db, new Date(now - config.webhooks.eventRetentionDays * 86_400_000)),
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
