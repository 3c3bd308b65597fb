// Helpers for the referral-integrity tests: a clock the test moves, one address per client, an
// inviter with their link, and the review's dependencies.

import { loadConfig } from "../../src/config.js";
import type { Database } from "../../src/db/connection.js";
import { keptMail } from "../../src/email/outbox.js";
import { type EventDeps, noEventWake } from "../../src/events/events.js";
import { addressHasher } from "../../src/referrals/addresses.js";
import type { ReviewDeps } from "../../src/referrals/review.js";
import type { SignupDeps } from "../../src/referrals/signup.js";
import { Client, cheapHasher, type TestApp, tokenOf } from "./app.js";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * A clock the test moves by hand, starting a minute into the current hour (sessions expire by the
 * database's own clock, so the test clock stays near the real time and only ever moves forward).
 */
export interface TestClock {
  (): number;
  advance(ms: number): void;
  /** Moves to one minute into the next clock hour. */
  nextHour(): void;
}

export function testClock(): TestClock {
  let now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 60_000;
  const clock = (() => now) as TestClock;
  clock.advance = (ms) => {
    now += ms;
  };
  clock.nextHour = () => {
    now = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS + 60_000;
  };
  return clock;
}

let lastAddress = 0;

/** A client address no other client of this process has used (10.x.y.z). */
export function freshAddress(): string {
  lastAddress += 1;
  return `10.${(lastAddress >> 16) & 255}.${(lastAddress >> 8) & 255}.${lastAddress & 255}`;
}

/** A JSON client on an address of its own. */
export function freshClient(t: Pick<TestApp, "app">, address = freshAddress()): Client {
  return new Client(t.app, "json", address);
}

/** Signs `username` up without a link from `address`; their client stays logged in. */
export async function inviter(
  t: Pick<TestApp, "app">,
  username: string,
  address = freshAddress(),
): Promise<{ client: Client; token: string; address: string }> {
  const client = new Client(t.app, "json", address);
  const response = await client.signUp(username);
  if (response.statusCode !== 200) {
    throw new Error(`sign-up of ${username} failed: ${response.statusCode} ${response.body}`);
  }
  return { client, token: tokenOf((await client.dashboard()).referral_link), address };
}

/** Signs `username` up through `token` from `client`, expecting success. */
export async function signUpThrough(client: Client, username: string, token: string): Promise<void> {
  const response = await client.signUp(username, "correct horse battery", token);
  if (response.statusCode !== 200) {
    throw new Error(`sign-up of ${username} failed: ${response.statusCode} ${response.body}`);
  }
}

/** What approveReferral, rejectReferral and approveDueReferrals need, on the app's database. */
export function reviewDeps(t: TestApp, clock: () => number = t.deps.clock ?? Date.now): ReviewDeps {
  return {
    db: t.deps.db,
    program: t.config.program,
    integrity: t.config.integrity,
    clock,
    mail: keptMail,
    webhooks: noEventWake,
  };
}

/** What signUp needs, on `db`, with the test configuration's rules and a cheap hasher. */
export function signUpDeps(db: Database, webhooks: EventDeps = noEventWake): SignupDeps {
  const config = loadConfig({ NODE_ENV: "test" });
  return {
    db,
    hasher: cheapHasher(),
    program: config.program,
    integrity: config.integrity,
    addresses: addressHasher(db),
    throttle: config.throttle,
    session: config.session,
    clock: Date.now,
    mail: keptMail,
    webhooks,
  };
}
