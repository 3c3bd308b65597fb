// node-postgres over the embedded PGlite (src/db/pglite-connection.ts): what the pool must survive
// that PGlite's own node-postgres adapter did not, and what one session means for its clients.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import type pg from "pg";
import { type Database, queryPreparedRows, queryRows } from "../../src/db/connection.js";
import { pglitePool } from "../../src/db/pglite-connection.js";

let pglite: PGlite;
let pool: pg.Pool;
let db: Database;

before(async () => {
  pglite = new PGlite();
  pool = pglitePool(pglite);
  db = drizzle({ client: pool }) as unknown as Database;
  await pool.query("CREATE TABLE names (id serial PRIMARY KEY, name text NOT NULL UNIQUE)");
  await pool.query("CREATE TABLE counter (n int NOT NULL)");
  await pool.query("INSERT INTO counter VALUES (0)");
});
after(async () => {
  await pool.end();
  if (!pglite.closed) await pglite.close();
});

async function namesCount(): Promise<number> {
  const rows = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM names`);
  return rows[0]?.n ?? -1;
}

test("statements that fail outside a transaction leave the pool working, prepared or not", async () => {
  // node-postgres drops the client of every pool.query that fails; the next client must work.
  const insert = (name: string) => sql`INSERT INTO names (name) VALUES (${name}) RETURNING id`;
  const plain = await Promise.allSettled(Array.from({ length: 5 }, () => queryRows(db, insert("ann"))));
  const prepared = await Promise.allSettled(
    Array.from({ length: 5 }, () => queryPreparedRows(db, insert("bob"))),
  );
  for (const outcomes of [plain, prepared]) {
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "rejected", "rejected", "rejected"],
    );
    for (const outcome of outcomes.slice(1)) {
      const error = (outcome as PromiseRejectedResult).reason as { cause?: { code?: string } };
      assert.equal(error.cause?.code, "23505", "a unique violation, not a lost connection");
    }
  }
  assert.equal(await namesCount(), 2);
  // A statement prepared by a client the pool dropped is still prepared in the session: reused.
  assert.deepEqual(
    (await queryPreparedRows<{ id: number }>(db, insert("cy"))).map((row) => typeof row.id),
    ["number"],
  );
});

test("transactions of concurrent callers take turns on the one session", async () => {
  // A read then a write, without a lock: exact only if no other transaction runs in between.
  await Promise.all(
    Array.from({ length: 20 }, () =>
      db.transaction(async (tx) => {
        const [row] = await queryRows<{ n: number }>(tx, sql`SELECT n FROM counter`);
        await tx.execute(sql`UPDATE counter SET n = ${(row?.n ?? 0) + 1}`);
      }),
    ),
  );
  const [row] = await queryRows<{ n: number }>(db, sql`SELECT n FROM counter`);
  assert.equal(row?.n, 20);
});

test("a transaction that fails is rolled back and the next one runs", async () => {
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO names (name) VALUES ('dee')`);
      await tx.execute(sql`INSERT INTO names (name) VALUES ('ann')`);
    }),
    (error: { cause?: { code?: string } }) => error.cause?.code === "23505",
  );
  await db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO names (name) VALUES ('dee')`);
  });
  assert.equal(await namesCount(), 4);
});

test("a statement reaches PGlite in one call, its messages batched up to the Sync", async () => {
  const names = await namesCount();
  const calls: string[] = [];
  const original = pglite.execProtocolStream.bind(pglite);
  pglite.execProtocolStream = (message, options) => {
    calls.push(String.fromCharCode(...[message[0] ?? 0]));
    return original(message, options);
  };
  try {
    const select = sql`SELECT id FROM names WHERE name = ${"ann"}`;
    // Parse, Bind, Describe, Execute and Sync, then (prepared already) Bind to Sync.
    await queryPreparedRows(db, select);
    await queryPreparedRows(db, select);
    await queryRows(db, select);
    assert.deepEqual(calls, ["P", "B", "P"]);
    // An error inside a batch ends it as one at PostgreSQL would: the rest is skipped to the Sync.
    await assert.rejects(queryRows(db, sql`SELECT 1 / ${0}::int`), (error: { cause?: { code?: string } }) => {
      assert.equal(error.cause?.code, "22012", "division by zero");
      return true;
    });
    // And the session goes on.
    assert.equal(await namesCount(), names);
  } finally {
    pglite.execProtocolStream = original;
  }
});

test("once PGlite is closed, a query fails instead of waiting", async () => {
  await pglite.close();
  await assert.rejects(pool.query("SELECT 1"));
});
