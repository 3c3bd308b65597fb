// Events are kept EVENT_RETENTION_DAYS (90 by default): the housekeeping then deletes them with their
// deliveries and attempts, except an event with a delivery still waiting.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { cleanUpExpired } from "../../src/accounts/housekeeping.js";
import { queryRows } from "../../src/db/connection.js";
import { createEndpoint } from "../../src/webhooks/endpoints.js";
import { createTestApp, type TestApp } from "../support/app.js";

const DAY_MS = 86_400_000;
let t: TestApp;

before(async () => {
  t = await createTestApp();
});
after(async () => t.close());

test("old events go with their deliveries and attempts; recent ones and those still being delivered stay", async () => {
  const db = t.deps.db;
  const endpointId = await createEndpoint(db, {
    url: "https://hooks.example.com/in",
    description: "",
    eventTypes: ["user.created"],
    secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
    createdById: null,
  });
  const now = Date.now();
  // An event `days` old, with one delivery in `status` (and an attempt), or none.
  const event = async (name: string, days: number, status: string | null) => {
    const [row] = await queryRows<{ id: string }>(
      db,
      sql`INSERT INTO events (type, data, occurred_at)
        VALUES ('user.created', jsonb_build_object('username', ${name}::text), ${new Date(now - days * DAY_MS).toISOString()}::timestamptz)
        RETURNING id`,
    );
    if (status !== null) {
      await db.execute(sql`WITH d AS (
          INSERT INTO webhook_deliveries (event_id, endpoint_id, status) VALUES (${row?.id}, ${endpointId}, ${status}) RETURNING id
        ) INSERT INTO webhook_attempts (delivery_id, duration_ms, status_code) SELECT id, 12, 500 FROM d`);
    }
  };
  await event("old_delivered", 91, "delivered");
  await event("old_failed", 120, "failed");
  await event("old_no_endpoint", 200, null);
  await event("old_waiting", 95, "pending");
  await event("recent", 89, "delivered");

  const result = await cleanUpExpired(db, t.config, now);
  assert.equal(result.events, 3);
  const left = await queryRows<{ name: string }>(
    db,
    sql`SELECT data->>'username' AS name FROM events ORDER BY seq`,
  );
  assert.deepEqual(
    left.map((row) => row.name),
    ["old_waiting", "recent"],
  );
  const [counts] = await queryRows<{ deliveries: number; attempts: number }>(
    db,
    sql`SELECT (SELECT count(*) FROM webhook_deliveries)::int AS deliveries,
        (SELECT count(*) FROM webhook_attempts)::int AS attempts`,
  );
  assert.deepEqual(counts, { deliveries: 2, attempts: 2 });
  // Once its delivery is done, the waiting one goes too.
  await db.execute(sql`UPDATE webhook_deliveries SET status = 'failed'`);
  assert.equal((await cleanUpExpired(db, t.config, now)).events, 1);
});
