// Events and deliveries are kept EVENT_RETENTION_DAYS (90 by default): the housekeeping then deletes
// the deliveries no longer waiting, with their attempts, and the events, except an event with a
// delivery still waiting.
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

test("old deliveries go with their attempts, and old events; recent ones and those still waiting stay", async () => {
  const db = t.deps.db;
  const endpointId = await createEndpoint(db, {
    url: "https://hooks.example.com/in",
    description: "",
    eventTypes: ["user.created"],
    secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
    createdById: null,
  });
  const now = Date.now();
  const daysAgo = (days: number) => new Date(now - days * DAY_MS).toISOString();
  // An event `days` old, with a delivery made then in each of `statuses` (each with an attempt).
  const event = async (name: string, days: number, statuses: string[]) => {
    const [row] = await queryRows<{ id: string }>(
      db,
      sql`INSERT INTO events (type, data, occurred_at)
        VALUES ('user.created', jsonb_build_object('username', ${name}::text), ${daysAgo(days)}::timestamptz)
        RETURNING id`,
    );
    for (const status of statuses) {
      await db.execute(sql`WITH d AS (
          INSERT INTO webhook_deliveries (event_id, endpoint_id, status, created_at)
          VALUES (${row?.id}, ${endpointId}, ${status}, ${daysAgo(days)}::timestamptz) RETURNING id
        ) INSERT INTO webhook_attempts (delivery_id, duration_ms, status_code) SELECT id, 12, 500 FROM d`);
    }
    return row?.id as string;
  };
  const oldDelivered = await event("old_delivered", 91, ["delivered"]);
  await event("old_failed", 120, ["failed"]);
  await event("old_no_endpoint", 200, []);
  // Delivered to one endpoint, still waiting for another.
  await event("old_waiting", 95, ["delivered", "pending"]);
  await event("recent", 89, ["delivered"]);
  // Staff sent an old event again today: that delivery is as old as it is, not as its event.
  await db.execute(sql`INSERT INTO webhook_deliveries (event_id, endpoint_id, status, manual)
    VALUES (${oldDelivered}, ${endpointId}, 'delivered', true)`);

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
  const deliveries = await queryRows<{ status: string; manual: boolean; attempts: number }>(
    db,
    sql`SELECT d.status, d.manual, (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id)::int AS attempts
      FROM webhook_deliveries d ORDER BY d.id`,
  );
  assert.deepEqual(deliveries, [
    { status: "pending", manual: false, attempts: 1 },
    { status: "delivered", manual: false, attempts: 1 },
    { status: "delivered", manual: true, attempts: 0 },
  ]);
  const [attempts] = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM webhook_attempts`);
  assert.equal(attempts?.n, 2, "the attempts of the deliveries deleted went with them");
  // Once its delivery is done, the waiting one goes too.
  await db.execute(sql`UPDATE webhook_deliveries SET status = 'failed' WHERE status = 'pending'`);
  assert.equal((await cleanUpExpired(db, t.config, now)).events, 1);
  assert.equal(
    (await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM webhook_deliveries`))[0]?.n,
    2,
  );
});
