// The addresses the shared-address signal keeps: keyed hashes only, and only for its window.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { cleanUpExpired } from "../../src/accounts/housekeeping.js";
import { queryRows } from "../../src/db/connection.js";
import { Client, createTestApp, type TestApp, tokenOf } from "../support/app.js";

let t: TestApp;
before(async () => {
  t = await createTestApp({ REFERRAL_SHARED_ADDRESS_DAYS: "30", REFERRAL_LINK_SIGNUPS_PER_HOUR: "2" });
});
after(async () => t.close());

async function sightings(): Promise<{ username: string; address_hash: string; days_old: number }[]> {
  return queryRows(
    t.deps.db,
    sql`SELECT u.username, s.address_hash, extract(day FROM now() - s.last_seen_at)::int AS days_old
        FROM address_sightings s JOIN users u ON u.id = s.user_id ORDER BY u.username`,
  );
}

test("sign-up and login keep the address as an HMAC under the service's own key, never as text", async () => {
  await new Client(t.app, "json", "203.0.113.7").signUp("sight_alice");
  await new Client(t.app, "json", "198.51.100.9").logIn("sight_alice");
  const [secret] = await queryRows<{ value: string }>(
    t.deps.db,
    sql`SELECT value FROM service_secrets WHERE name = 'address_hmac_key'`,
  );
  assert.ok(secret && secret.value.length >= 40, "a random key is kept in the database");
  const keyed = (address: string) =>
    createHmac("sha256", secret?.value as string)
      .update(address)
      .digest("base64url");
  const rows = await sightings();
  assert.deepEqual(
    rows.map((r) => r.address_hash).sort(),
    [keyed("203.0.113.7"), keyed("198.51.100.9")].sort(),
  );
  const everything = JSON.stringify(
    await queryRows(t.deps.db, sql`SELECT * FROM address_sightings, signal_counters`),
  );
  assert.ok(!everything.includes("203.0.113") && !everything.includes("198.51.100"), "no raw address");
});

test("housekeeping deletes sightings older than the window and signal counters whose window ended", async () => {
  const alice = new Client(t.app, "json", "203.0.113.8");
  await alice.signUp("sight_bob");
  const ref = tokenOf((await alice.dashboard()).referral_link);
  await new Client(t.app, "json", "192.0.2.50").signUp("sight_friend", "correct horse battery", ref);
  await t.deps.db.execute(
    sql`UPDATE address_sightings SET last_seen_at = now() - interval '31 days'
        WHERE user_id = (SELECT id FROM users WHERE username = 'sight_alice')`,
  );
  const counters = await queryRows<{ n: number }>(
    t.deps.db,
    sql`SELECT count(*)::int AS n FROM signal_counters`,
  );
  assert.ok((counters[0]?.n ?? 0) >= 1, "the referred sign-up was counted");
  const result = await cleanUpExpired(t.deps.db, t.config, Date.now() + 2 * 3_600_000);
  assert.equal(result.addressSightings, 2, "both of sight_alice's addresses are past the window");
  assert.equal(result.signalCounters, counters[0]?.n, "every hourly counter has ended two hours later");
  assert.deepEqual(
    (await sightings()).map((r) => r.username),
    ["sight_bob", "sight_friend"],
  );
});
