// Each API key may make API_REQUESTS_PER_MINUTE requests a minute (here 3), counted in the database:
// the next gets 429 with Retry-After, one key's limit never touches another's, requests arriving
// together cannot pass the limit, and the next minute starts afresh. last_used_at is written at most
// once a minute. The clock is the test's own.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.js";
import { staffClient } from "../support/admin.js";
import { type Client, createTestApp, type TestApp } from "../support/app.js";
import { type TestClock, testClock } from "../support/referrals.js";
import { ApiClient, type ContractChecker, contractChecker, type MadeKey, makeKey } from "./support.js";

const LIMIT = 3;

let t: TestApp;
let clock: TestClock;
let staff: Client;
let contract: ContractChecker;

before(async () => {
  clock = testClock();
  t = await createTestApp({ API_REQUESTS_PER_MINUTE: String(LIMIT) }, { clock });
  staff = await staffClient(t, "throttle_boss");
  contract = await contractChecker(t.app);
});
after(async () => t.close());

async function client(name: string): Promise<{ made: MadeKey; api: ApiClient }> {
  const made = await makeKey(staff, name, "read");
  return { made, api: new ApiClient(t.app, made.key, contract) };
}

/** The seconds left in the clock's current minute, as Retry-After says them. */
function secondsLeftInMinute(): number {
  return Math.ceil((60_000 - (clock() % 60_000)) / 1000);
}

test("a key's requests past its limit get 429 with Retry-After; another key is not touched", async () => {
  clock.advance(10_000);
  const a = await client("Busy integration");
  const b = await client("Quiet integration");
  for (let i = 0; i < LIMIT; i++) assert.equal((await a.api.get("/api/v1/users")).statusCode, 200);
  const refused = await a.api.get("/api/v1/users");
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.headers["retry-after"], String(secondsLeftInMinute()));
  assert.deepEqual(refused.json(), {
    error: "too_many_requests",
    message: `Too many requests with this key. Try again in ${secondsLeftInMinute()} seconds.`,
  });
  // Every route counts, writes and reads alike.
  assert.equal((await a.api.get("/api/v1/users/1")).statusCode, 429);
  for (let i = 0; i < LIMIT; i++) assert.equal((await b.api.get("/api/v1/users")).statusCode, 200);

  // Staff see API throttling in the metrics beside the other kinds.
  const metrics = await t.app.inject({ method: "GET", url: "/metrics" });
  assert.match(metrics.body, /referral_throttled_requests_total\{kind="api"\} 2/);

  // The next minute starts afresh.
  clock.advance(secondsLeftInMinute() * 1000);
  assert.equal((await a.api.get("/api/v1/users")).statusCode, 200);
});

test("requests arriving together cannot pass the limit", async () => {
  const c = await client("Burst");
  const responses = await Promise.all(Array.from({ length: 10 }, () => c.api.get("/api/v1/users")));
  const statuses = responses.map((r) => r.statusCode).sort();
  assert.deepEqual(statuses, [...Array(LIMIT).fill(200), ...Array(10 - LIMIT).fill(429)]);
});

test("an unknown key is refused with 401 every time, and counts against no key", async () => {
  const anonymous = new ApiClient(t.app, null, contract);
  for (let i = 0; i <= LIMIT; i++) {
    assert.equal(
      (await anonymous.get("/api/v1/users", { authorization: `Bearer rk_${"B".repeat(43)}` })).statusCode,
      401,
    );
  }
});

test("last_used_at is written at most once a minute", async () => {
  clock.advance(secondsLeftInMinute() * 1000 + 5_000);
  const d = await client("Seldom");
  const lastUsed = async () => {
    const rows = await queryRows<{ at: Date | string | null }>(
      t.deps.db,
      sql`SELECT last_used_at AS at FROM api_keys WHERE id = ${d.made.id}`,
    );
    const at = rows[0]?.at;
    return at === null || at === undefined ? null : new Date(at).getTime();
  };
  const first = clock();
  await d.api.get("/api/v1/users");
  assert.equal(await lastUsed(), first);
  clock.advance(30_000);
  await d.api.get("/api/v1/users");
  assert.equal(await lastUsed(), first, "half a minute later: not written again");
  clock.advance(30_000);
  await d.api.get("/api/v1/users");
  assert.equal(await lastUsed(), clock(), "a minute later: written");
});
