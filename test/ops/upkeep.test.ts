// The embedded database's upkeep (src/db/upkeep.ts) vacuums the tables that updates left dead rows
// in, and leaves the others.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../../src/db/connection.js";
import { tableActivity, upkeepDue, upkeepWhereDue } from "../../src/db/upkeep.js";
import { createTestApp } from "../support/app.js";
import { createTestDatabase, onPostgres, type TestDatabase } from "../support/database.js";

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.drop());

async function vacuumCount(table: string, db: Database = database.handle.db): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`SELECT vacuum_count::int AS n FROM pg_stat_all_tables WHERE schemaname = 'public' AND relname = ${table}`,
  );
  return Number(row?.n ?? 0);
}

/** Dead rows in throttle_counters, well past autovacuum's threshold, with the statistics flushed. */
async function leaveDeadRows(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO throttle_counters (bucket, window_start, hits)
      SELECT 'upkeep-' || n, now(), 1 FROM generate_series(1, 200) AS n`);
    for (let i = 0; i < 5; i++) {
      await tx.execute(sql`UPDATE throttle_counters SET hits = hits + 1 WHERE bucket LIKE 'upkeep-%'`);
    }
    // The statistics are flushed when the connection that wrote them goes idle (at once when asked).
    await tx.execute(sql`SELECT pg_stat_force_next_flush()`);
  });
  await db.execute(sql`SELECT pg_stat_force_next_flush()`);
}

test("a table with many dead rows is vacuumed and analysed; its dead rows are gone", async () => {
  const { db } = database.handle;
  // On PostgreSQL its own autovacuum could get there first (the scratch database is dropped after).
  if (onPostgres) await db.execute(sql`ALTER TABLE throttle_counters SET (autovacuum_enabled = false)`);
  await leaveDeadRows(db);
  const tables = await tableActivity(db);
  const before = tables.find((t) => t.table === "throttle_counters");
  assert.ok(before && before.deadRows >= 1000, `dead rows before: ${before?.deadRows}`);
  const quiet = tables.find((t) => t.schema === "public" && upkeepDue(t) === null);
  assert.ok(quiet, "a table with nothing due");
  const vacuumsBefore = await vacuumCount("throttle_counters");
  const quietBefore = await vacuumCount(quiet.table);

  const done = await upkeepWhereDue(db);

  assert.ok(
    done.some((d) => d.table === "throttle_counters" && d.upkeep === "vacuum" && d.ms >= 0),
    JSON.stringify(done),
  );
  assert.ok(!done.some((d) => d.table === quiet.table), "a table with nothing due is left alone");
  await db.execute(sql`SELECT pg_stat_force_next_flush()`);
  assert.equal(await vacuumCount("throttle_counters"), vacuumsBefore + 1);
  assert.equal(await vacuumCount(quiet.table), quietBefore);
  const afterwards = (await tableActivity(db)).find((t) => t.table === "throttle_counters");
  assert.equal(afterwards?.deadRows, 0);
});

test("on PGlite the app does the upkeep once a minute", {
  skip: onPostgres && "PostgreSQL's own autovacuum does it",
}, async (t) => {
  t.mock.timers.enable({ apis: ["setInterval"] });
  const testApp = await createTestApp();
  const { db } = testApp.database.handle;
  try {
    await leaveDeadRows(db);
    const before = await vacuumCount("throttle_counters", db);
    t.mock.timers.tick(60_000);
    // Closing the app waits for the upkeep under way.
    await testApp.app.close();
    await db.execute(sql`SELECT pg_stat_force_next_flush()`);
    assert.equal(await vacuumCount("throttle_counters", db), before + 1);
  } finally {
    await testApp.database.drop();
    await testApp.deps.hasher.close();
  }
});
